import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureLocalUser, freePort, installedServer, rootRequirement, startDaemon, waitForBanner, type Daemon } from '@bentoport/test-utils';
import type { TestProject } from 'vitest/node';

/** What the tests receive through `inject('sftp')`. */
export interface SftpServers {
  /** Why the daemon tests are skipped, when they are. */
  skip?: string;
  port: number;
  user: string;
  /** A password with characters that must be percent-encoded in a URL. */
  password: string;
  /** A directory of this run that the user owns. */
  root: string;
  /** An unencrypted ed25519 key the server accepts. */
  clientKey: string;
  /** An ed25519 key encrypted with `passphrase`, also accepted. */
  encryptedClientKey: string;
  passphrase: string;
  /** known_hosts with the server's key under `[127.0.0.1]:PORT`, plain and hashed (`|1|…`). */
  knownHosts: string;
  hashedKnownHosts: string;
  /** `SHA256:…` of the server's host key. */
  hostFingerprint: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    sftp: SftpServers;
  }
}

const USER = 'bentoport-sftp';
const PASSWORD = 'Sftp-t3st:p@ss/w%rd';
const PASSPHRASE = 'key passphrase';
/** Fixed, so that concurrent runs do not move each other's home away. */
const HOME = '/tmp/bentoport-sftp-user-home';

let daemon: Daemon | undefined;
let scratch = '';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const empty: SftpServers = {
    port: 0, user: USER, password: PASSWORD, root: '', clientKey: '', encryptedClientKey: '', passphrase: PASSPHRASE,
    knownHosts: '', hashedKnownHosts: '', hostFingerprint: '',
  };
  const skip = installedServer(['/usr/sbin/sshd']) === undefined ? 'OpenSSH sshd is not installed (apt-get install -y openssh-server)' : rootRequirement('sshd');
  if (skip !== undefined) {
    if (process.env.CI === 'true') throw new Error(`CI=true and ${skip}`);
    project.provide('sftp', { ...empty, skip });
    return async () => {};
  }
  scratch = mkdtempSync(path.join(tmpdir(), 'bentoport-sshd-'));
  chmodSync(scratch, 0o755);
  const root = path.join(scratch, 'files');
  mkdirSync(root);
  mkdirSync(HOME, { recursive: true });
  ensureLocalUser(USER, PASSWORD, HOME);
  const uid = Number(execFileSync('id', ['-u', USER]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', USER]).toString().trim());
  chownSync(root, uid, gid);
  chownSync(HOME, uid, gid);
  mkdirSync('/run/sshd', { recursive: true });

  const keygen = (file: string, passphrase = ''): void => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'bentoport-test', '-f', file], { stdio: 'ignore' });
  };
  const hostKey = path.join(scratch, 'host_key');
  const clientKey = path.join(scratch, 'client_key');
  const encryptedClientKey = path.join(scratch, 'client_key_encrypted');
  keygen(hostKey);
  keygen(clientKey);
  keygen(encryptedClientKey, PASSPHRASE);
  const authorizedKeys = path.join(scratch, 'authorized_keys');
  writeFileSync(authorizedKeys, readFileSync(`${clientKey}.pub`, 'utf8') + readFileSync(`${encryptedClientKey}.pub`, 'utf8'));

  const port = await freePort();
  const config = path.join(scratch, 'sshd_config');
  writeFileSync(config, [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    `PidFile ${path.join(scratch, 'sshd.pid')}`,
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    `AuthorizedKeysFile ${authorizedKeys}`,
    'StrictModes no',
    'UsePAM yes',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n'));
  daemon = startDaemon('/usr/sbin/sshd', ['-D', '-e', '-f', config]);
  await waitForBanner(port, 'SSH-', daemon);

  const [type, key] = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/);
  const knownHosts = path.join(scratch, 'known_hosts');
  writeFileSync(knownHosts, `# test server\n[127.0.0.1]:${port} ${type} ${key}\n`);
  const hashedKnownHosts = path.join(scratch, 'known_hosts_hashed');
  writeFileSync(hashedKnownHosts, readFileSync(knownHosts, 'utf8'));
  execFileSync('ssh-keygen', ['-H', '-f', hashedKnownHosts], { stdio: 'ignore' });
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`]).toString().split(/\s+/)[1] ?? '';

  project.provide('sftp', {
    port, user: USER, password: PASSWORD, root, clientKey, encryptedClientKey, passphrase: PASSPHRASE,
    knownHosts, hashedKnownHosts, hostFingerprint: fingerprint,
  });
  return async () => {
    await daemon?.stop();
    rmSync(scratch, { recursive: true, force: true });
  };
}
