/**
 * The FTP and SFTP rows of `pnpm bench` (BENCH_FTP=1, BENCH_SFTP=1; off by default, root only):
 * bentoport's export to and import from a vsftpd and an OpenSSH sshd (internal-sftp) on
 * 127.0.0.1, beside `curl -T`/`curl -o` (FTP) and OpenSSH `sftp -b` put/get (SFTP) of the same
 * archive against the same daemon. Servers and clients are spawned here only: the product never does.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { timedWorker } from './bench-measure.js';
import { ensureLocalUser, freePort, freePortRange, startDaemon, waitForBanner, type Daemon } from '@bentoport/test-utils';


interface Sample {
  seconds: number;
  maxRssMiB: number | undefined;
  size: number | undefined;
}

interface ServerRow {
  format: string;
  operation: 'export' | 'import';
  tool: string;
  seconds: number;
  maxRssMiB: number | undefined;
  size: number | undefined;
  reference?: ServerRow;
}

export interface ServerBenchInput {
  scratch: string;
  home: string;
  tag: string;
  formats: readonly string[];
  runs: number;
  timedCommand(command: string[], cwd: string): Promise<Sample>;
  summarize(samples: Sample[]): Pick<ServerRow, 'seconds' | 'maxRssMiB' | 'size'>;
}

interface Server {
  /** URL of a directory on the server, ending in `/`. */
  base: string;
  /** The same directory on the local disk. */
  directory: string;
  env: NodeJS.ProcessEnv;
  references(local: string, name: string): { tool: string; operation: 'export' | 'import'; command: string[] }[];
  stop(): Promise<void>;
}

const EXTENSION: Record<string, string> = { tar: 'tar', gz: 'tar.gz', zip: 'zip', bz2: 'tar.bz2', bento: 'bento' };

function userDirectory(scratch: string, name: string, user: string): string {
  // mkdtemp made the scratch directory 0700: the server's user must be able to pass through it.
  chmodSync(scratch, 0o755);
  const directory = path.join(scratch, name);
  mkdirSync(directory, { recursive: true });
  const uid = Number(execFileSync('id', ['-u', user]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', user]).toString().trim());
  chownSync(directory, uid, gid);
  return directory;
}

async function startVsftpd(scratch: string): Promise<Server> {
  const user = 'bentoport-ftp';
  const password = 'Ftp-t3st:p@ss/w%rd';
  mkdirSync('/tmp/bentoport-ftp-user-home', { recursive: true });
  ensureLocalUser(user, password, '/tmp/bentoport-ftp-user-home');
  const directory = userDirectory(scratch, 'ftp-files', user);
  mkdirSync('/var/run/vsftpd/empty', { recursive: true });
  const port = await freePort();
  const passive = await freePortRange(10);
  const config = path.join(scratch, 'vsftpd.conf');
  writeFileSync(config, [
    'listen=YES', 'listen_address=127.0.0.1', `listen_port=${port}`, 'anonymous_enable=NO', 'local_enable=YES', 'write_enable=YES',
    'local_umask=022', 'pasv_enable=YES', `pasv_min_port=${passive}`, `pasv_max_port=${passive + 9}`, 'pasv_address=127.0.0.1',
    'seccomp_sandbox=NO', 'background=NO', 'pam_service_name=vsftpd', 'secure_chroot_dir=/var/run/vsftpd/empty', 'xferlog_enable=NO', '',
  ].join('\n'));
  const daemon: Daemon = startDaemon('/usr/sbin/vsftpd', [config]);
  await waitForBanner(port, '220', daemon);
  const base = `ftp://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}${directory}/`;
  // curl reads an FTP URL's path from the login directory; %2F makes it absolute.
  const curlBase = `ftp://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/%2F${directory.slice(1)}/`;
  return {
    base,
    directory,
    env: {},
    references: (local, name) => [
      { tool: 'curl -T file', operation: 'export', command: ['curl', '-sS', '-f', '-T', local, `${curlBase}curl-${name}`] },
      { tool: 'curl -o file', operation: 'import', command: ['curl', '-sS', '-f', '-o', `${local}.download`, `${curlBase}${name}`] },
    ],
    stop: () => daemon.stop(),
  };
}

async function startSshd(scratch: string): Promise<Server> {
  const user = 'bentoport-sftp';
  mkdirSync('/tmp/bentoport-sftp-user-home', { recursive: true });
  ensureLocalUser(user, 'Sftp-t3st:p@ss/w%rd', '/tmp/bentoport-sftp-user-home');
  const directory = userDirectory(scratch, 'sftp-files', user);
  const sshHome = path.join(scratch, 'ssh-home');
  mkdirSync(path.join(sshHome, '.ssh'), { recursive: true, mode: 0o700 });
  const hostKey = path.join(scratch, 'host_key');
  const clientKey = path.join(sshHome, '.ssh', 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey], { stdio: 'ignore' });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey], { stdio: 'ignore' });
  const authorizedKeys = path.join(scratch, 'authorized_keys');
  writeFileSync(authorizedKeys, readFileSync(`${clientKey}.pub`));
  mkdirSync('/run/sshd', { recursive: true });
  const port = await freePort();
  const config = path.join(scratch, 'sshd_config');
  writeFileSync(config, [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `PidFile ${path.join(scratch, 'sshd.pid')}`, 'PasswordAuthentication no',
    'PubkeyAuthentication yes', `AuthorizedKeysFile ${authorizedKeys}`, 'StrictModes no', 'UsePAM yes', 'Subsystem sftp internal-sftp', '',
  ].join('\n'));
  const daemon = startDaemon('/usr/sbin/sshd', ['-D', '-e', '-f', config]);
  await waitForBanner(port, 'SSH-', daemon);
  const [type, key] = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/);
  const knownHosts = path.join(sshHome, '.ssh', 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${type} ${key}\n`);
  const sftp = (batch: string): string[] => [
    'sh', '-c', `printf '%s\\n' "$1" | sftp -q -b - -P ${port} -i ${clientKey} -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes ${user}@127.0.0.1 >/dev/null`, 'sh', batch,
  ];
  return {
    base: `sftp://${user}@127.0.0.1:${port}${directory}/`,
    directory,
    // bentoport finds the key and known_hosts under ~/.ssh like OpenSSH; no agent.
    env: { HOME: sshHome, SSH_AUTH_SOCK: '' },
    references: (local, name) => [
      { tool: 'sftp put', operation: 'export', command: sftp(`put ${local} ${directory}/sftp-${name}`) },
      { tool: 'sftp get', operation: 'import', command: sftp(`get ${directory}/${name} ${local}.download`) },
    ],
    stop: () => daemon.stop(),
  };
}

async function benchServer(kind: 'ftp' | 'sftp', input: ServerBenchInput): Promise<{ rows: ServerRow[]; checks: [string, boolean][] }> {
  const { scratch, home, tag, formats, runs, timedCommand, summarize } = input;
  const server = kind === 'ftp' ? await startVsftpd(scratch) : await startSshd(scratch);
  const rows: ServerRow[] = [];
  const checks: [string, boolean][] = [];
  try {
    for (const format of formats.filter((candidate) => EXTENSION[candidate] !== undefined)) {
      console.log(`\n[${format} over ${kind.toUpperCase()}: ${kind === 'ftp' ? 'vsftpd' : 'OpenSSH internal-sftp'} on 127.0.0.1]`);
      const name = `ours.${EXTENSION[format]}`;
      const url = `${server.base}${name}`;
      const local = path.join(scratch, `${kind}-${name}`);
      const ourExport: Sample[] = [];
      const ourImport: Sample[] = [];
      const referenceSamples: Sample[][] = [];
      let size = 0;
      // Ours and the reference take turns in every round, so a machine that speeds up or slows
      // down during the bench (page-cache writeback, a neighbour on the host) weighs on both alike.
      // Every upload, ours or the reference's, writes a new file: a file overwritten in place
      // reuses the page-cache pages its old content freed, a new one must get fresh ones.
      const clearUploads = () =>
        Promise.all(['', 'curl-', 'sftp-'].map((prefix) => rm(path.join(server.directory, `${prefix}${name}`), { force: true })));
      for (let round = 0; round < runs; round++) {
        await clearUploads();
        ourExport.push(await timedWorker(['export', home, tag, url, format], server.env));
        if (round === 0) {
          await rm(local, { force: true });
          execFileSync('cp', [path.join(server.directory, name), local]);
          size = (await stat(local)).size;
        }
        const [exportReference, importReference] = server.references(local, name);
        referenceSamples[0] ??= [];
        await Promise.all(['curl-', 'sftp-'].map((prefix) => rm(path.join(server.directory, `${prefix}${name}`), { force: true })));
        referenceSamples[0].push(await timedCommand(exportReference!.command, scratch));
        const freshHome = path.join(scratch, `${kind}-import-${round}`);
        ourImport.push(await timedWorker(['import', freshHome, url, format], server.env));
        await rm(freshHome, { recursive: true, force: true });
        referenceSamples[1] ??= [];
        referenceSamples[1].push(await timedCommand(importReference!.command, scratch));
        await rm(`${local}.download`, { force: true });
        console.log(
          `  run ${round + 1}/${runs}: export ${ourExport.at(-1)?.seconds.toFixed(2)} s (${exportReference!.tool} ${referenceSamples[0].at(-1)?.seconds.toFixed(2)} s), ` +
            `import ${ourImport.at(-1)?.seconds.toFixed(2)} s (${importReference!.tool} ${referenceSamples[1].at(-1)?.seconds.toFixed(2)} s)`,
        );
      }
      const referenceRows: ServerRow[] = server.references(local, name).map((reference, index) => ({
        format,
        operation: reference.operation,
        tool: reference.tool,
        ...summarize(referenceSamples[index] ?? []),
        size,
      }));
      const exportRow: ServerRow = { format, operation: 'export', tool: `bentoport ${kind}`, ...summarize(ourExport), reference: referenceRows[0] };
      const importRow: ServerRow = { format, operation: 'import', tool: `bentoport ${kind}`, ...summarize(ourImport), reference: referenceRows[1] };
      rows.push(exportRow, referenceRows[0] as ServerRow, importRow, referenceRows[1] as ServerRow);
      for (const row of [exportRow, importRow]) {
        if (format === 'tar' && row.reference !== undefined) {
          checks.push([`${kind} tar ${row.operation} ${row.seconds.toFixed(2)} s <= ${row.reference.tool} ${row.reference.seconds.toFixed(2)} s`, row.seconds <= row.reference.seconds]);
        }
      }
      await rm(local, { force: true });
      await rm(server.directory, { recursive: true, force: true });
      mkdirSync(server.directory);
      chownSync(server.directory, ...ownerOf(path.dirname(server.directory), kind));
    }
  } finally {
    await server.stop();
  }
  return { rows, checks };
}

function ownerOf(_parent: string, kind: 'ftp' | 'sftp'): [number, number] {
  const user = kind === 'ftp' ? 'bentoport-ftp' : 'bentoport-sftp';
  return [Number(execFileSync('id', ['-u', user]).toString().trim()), Number(execFileSync('id', ['-g', user]).toString().trim())];
}

/** Rows and checks for the servers switched on by BENCH_FTP=1 / BENCH_SFTP=1. */
export async function benchFtpSftp(input: ServerBenchInput): Promise<{ rows: ServerRow[]; checks: [string, boolean][] }> {
  const rows: ServerRow[] = [];
  const checks: [string, boolean][] = [];
  for (const kind of ['ftp', 'sftp'] as const) {
    if (process.env[`BENCH_${kind.toUpperCase()}`] !== '1') continue;
    if (process.getuid?.() !== 0) {
      console.log(`\n(BENCH_${kind.toUpperCase()}=1 needs root to create the server's local user: skipped)`);
      continue;
    }
    const result = await benchServer(kind, input);
    rows.push(...result.rows);
    checks.push(...result.checks);
  }
  return { rows, checks };
}
