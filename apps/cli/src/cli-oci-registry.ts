import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { freePort, installedServer, makeScratchDir, startDaemonOnPorts, type Daemon } from '@bentoport/test-utils';

/** A CNCF distribution registry on loopback for CLI tests, or why there is none. */
export interface TestOciRegistry {
  /** `127.0.0.1:PORT`: loopback, so the CLI talks plain HTTP as Docker does. */
  host: string;
  stop(): Promise<void>;
}

/** Start docker-registry without authentication, as registry-oci's global setup does; undefined when it is not installed. */
export async function startTestOciRegistry(): Promise<TestOciRegistry | undefined> {
  const binary = installedServer(['/usr/bin/docker-registry', '/usr/sbin/docker-registry']);
  if (binary === undefined) return undefined;
  const scratch = await makeScratchDir('cli-oci');
  const port = await freePort();
  const data = path.join(scratch, 'data');
  await mkdir(data, { recursive: true });
  const config = path.join(scratch, 'config.yml');
  await writeFile(config, `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${data}\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const daemon: Daemon = await startDaemonOnPorts(binary, ['serve', config], [port]);
  return { host: `127.0.0.1:${port}`, stop: () => daemon.stop() };
}

const MISSING = 'docker-registry is not installed (apt-get install -y docker-registry)';

/**
 * Why the CLI's registry tests are skipped, or undefined when they run: docker-registry is
 * missing (or test servers are switched off) and CI is not set. Under CI=true they run and fail.
 */
export const OCI_REGISTRY_SKIP: string | undefined = installedServer(['/usr/bin/docker-registry', '/usr/sbin/docker-registry']) === undefined && process.env.CI !== 'true' ? MISSING : undefined;
if (OCI_REGISTRY_SKIP !== undefined) console.warn(`[cli] registry tests skipped: ${OCI_REGISTRY_SKIP}`);

/** The started registry, or the failure that says what to install. */
export function requireRegistry(registry: TestOciRegistry | undefined): TestOciRegistry {
  if (registry === undefined) throw new Error(MISSING);
  return registry;
}
