import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort, installedServer, startDaemonOnPorts, type Daemon } from '@bentoport/test-utils';
import { startTokenFront, type TokenFront } from './token-front.js';

/** What the tests receive through `inject('oci')`. */
export interface OciServers {
  /** Why the tests are skipped, when they are. */
  skip?: string;
  /** CNCF distribution without authentication. */
  openPort: number;
  /** Its storage root (`docker/registry/v2/blobs/sha256/XX/HEX/data`), for damaging a blob. */
  openData: string;
  /** CNCF distribution with htpasswd Basic auth. */
  basicPort: number;
  /** The bearer-token front (token endpoint + checks) before a third registry. */
  tokenPort: number;
  user: string;
  password: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    oci: OciServers;
  }
}

const USER = 'oci-user';
const PASSWORD = 'oci-secret-pass';

function registryConfig(data: string, port: number, htpasswd?: string): string {
  const auth = htpasswd ? `auth:\n  htpasswd:\n    realm: test\n    path: ${htpasswd}\n` : '';
  return `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${data}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`;
}

let daemons: Daemon[] = [];
let front: TokenFront | undefined;
let scratch = '';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const empty: OciServers = { openPort: 0, openData: '', basicPort: 0, tokenPort: 0, user: USER, password: PASSWORD };
  const registry = installedServer(['/usr/bin/docker-registry', '/usr/sbin/docker-registry']);
  const htpasswd = installedServer(['/usr/bin/htpasswd', '/usr/sbin/htpasswd']);
  const missing =
    registry === undefined ? 'the CNCF distribution registry is not installed (apt-get install -y docker-registry)'
    : htpasswd === undefined ? 'htpasswd is not installed (apt-get install -y apache2-utils)'
    : undefined;
  if (missing !== undefined) {
    if (process.env.CI === 'true') throw new Error(`CI=true and ${missing}`);
    project.provide('oci', { ...empty, skip: missing });
    return async () => {};
  }
  scratch = mkdtempSync(path.join(tmpdir(), 'bentoport-oci-servers-'));
  const htpasswdFile = path.join(scratch, 'htpasswd');
  writeFileSync(htpasswdFile, execFileSync(htpasswd as string, ['-Bbn', USER, PASSWORD]));
  const ports = { open: await freePort(), basic: await freePort(), behindToken: await freePort(), token: await freePort() };
  const start = async (name: string, port: number, auth?: string) => {
    const data = path.join(scratch, name, 'data');
    mkdirSync(data, { recursive: true });
    const config = path.join(scratch, name, 'config.yml');
    writeFileSync(config, registryConfig(data, port, auth));
    daemons.push(await startDaemonOnPorts(registry as string, ['serve', config], [port]));
    return data;
  };
  try {
    const openData = await start('open', ports.open);
    await start('basic', ports.basic, htpasswdFile);
    await start('behind-token', ports.behindToken);
    front = await startTokenFront(ports.token, ports.behindToken, USER, PASSWORD);
    project.provide('oci', { openPort: ports.open, openData, basicPort: ports.basic, tokenPort: ports.token, user: USER, password: PASSWORD });
  } catch (error) {
    await Promise.all(daemons.map((daemon) => daemon.stop()));
    throw error;
  }
  return async () => {
    await front?.close();
    await Promise.all(daemons.map((daemon) => daemon.stop()));
    daemons = [];
    rmSync(scratch, { recursive: true, force: true });
  };
}
