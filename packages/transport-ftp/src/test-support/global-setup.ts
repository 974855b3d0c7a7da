import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureLocalUser, freePort, freePortRange, installedServer, rootRequirement, startDaemon, waitForBanner, type Daemon } from '@bentoport/test-utils';

/** What the tests receive through `inject('ftp')`. */
export interface FtpServers {
  /** Why the daemon tests are skipped, when they are. */
  skip?: string;
  user: string;
  /** A password with characters that must be percent-encoded in a URL. */
  password: string;
  /** A directory of this run that the FTP user owns, for each test file to make its own sub-directory in. */
  root: string;
  /** The FTP user's login directory (shared by concurrent runs). */
  home: string;
  plainPort: number;
  explicitTlsPort: number;
  implicitTlsPort: number;
  /** The self-signed certificate (PEM) the TLS servers present: the `ca` option trusts it. */
  certificate: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    ftp: FtpServers;
  }
}

const USER = 'bentoport-ftp';
const PASSWORD = 'Ftp-t3st:p@ss/w%rd';
const PASSIVE_PORTS = 20;
/** Fixed, so that concurrent runs do not move each other's home away. */
const HOME = '/tmp/bentoport-ftp-user-home';

function vsftpdBinary(): string | undefined {
  return installedServer(['/usr/sbin/vsftpd', '/usr/bin/vsftpd']);
}

function configFor(port: number, passiveFirst: number, extra: string[]): string {
  return [
    'listen=YES',
    'listen_ipv6=NO',
    'listen_address=127.0.0.1',
    `listen_port=${port}`,
    'anonymous_enable=NO',
    'local_enable=YES',
    'write_enable=YES',
    'local_umask=022',
    'pasv_enable=YES',
    `pasv_min_port=${passiveFirst}`,
    `pasv_max_port=${passiveFirst + PASSIVE_PORTS - 1}`,
    'pasv_address=127.0.0.1',
    'seccomp_sandbox=NO',
    'background=NO',
    'pam_service_name=vsftpd',
    'secure_chroot_dir=/var/run/vsftpd/empty',
    'xferlog_enable=NO',
    ...extra,
    '',
  ].join('\n');
}

let daemons: Daemon[] = [];
let scratch = '';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const base: FtpServers = { user: USER, password: PASSWORD, root: '', home: HOME, plainPort: 0, explicitTlsPort: 0, implicitTlsPort: 0, certificate: '' };
  const binary = vsftpdBinary();
  const skip = binary === undefined ? 'vsftpd is not installed (apt-get install -y vsftpd)' : rootRequirement('vsftpd');
  if (skip !== undefined) {
    if (process.env.CI === 'true') throw new Error(`CI=true and ${skip}`);
    project.provide('ftp', { ...base, skip });
    return async () => {};
  }
  scratch = mkdtempSync(path.join(tmpdir(), 'bentoport-vsftpd-'));
  chmodSync(scratch, 0o755);
  const root = path.join(scratch, 'files');
  mkdirSync(root);
  mkdirSync(HOME, { recursive: true });
  ensureLocalUser(USER, PASSWORD, HOME);
  const uid = Number(execFileSync('id', ['-u', USER]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', USER]).toString().trim());
  chownSync(root, uid, gid);
  chownSync(HOME, uid, gid);
  mkdirSync('/var/run/vsftpd/empty', { recursive: true });

  const key = path.join(scratch, 'server.key');
  const certificate = path.join(scratch, 'server.crt');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', certificate,
  ], { stdio: 'ignore' });
  const tls = [`rsa_cert_file=${certificate}`, `rsa_private_key_file=${key}`, 'ssl_enable=YES', 'ssl_ciphers=HIGH', 'allow_anon_ssl=NO'];

  const servers = [
    { name: 'plain', extra: [] as string[] },
    { name: 'explicit', extra: [...tls, 'force_local_logins_ssl=YES', 'force_local_data_ssl=YES'] },
    { name: 'implicit', extra: [...tls, 'implicit_ssl=YES', 'force_local_logins_ssl=YES', 'force_local_data_ssl=YES'] },
  ];
  const ports: number[] = [];
  for (const server of servers) {
    const port = await freePort();
    const passiveFirst = await freePortRange(PASSIVE_PORTS);
    const config = path.join(scratch, `vsftpd-${server.name}.conf`);
    writeFileSync(config, configFor(port, passiveFirst, server.extra));
    const daemon = startDaemon(binary!, [config]);
    daemons.push(daemon);
    // Implicit TLS speaks TLS first: wait for the port to accept instead of a banner.
    if (server.name === 'implicit') await waitForBanner(port, '', daemon);
    else await waitForBanner(port, '220', daemon);
    ports.push(port);
  }
  project.provide('ftp', {
    user: USER,
    password: PASSWORD,
    root,
    home: HOME,
    plainPort: ports[0]!,
    explicitTlsPort: ports[1]!,
    implicitTlsPort: ports[2]!,
    certificate: readFileSync(certificate, 'utf8'),
  });
  return async () => {
    await Promise.all(daemons.map((daemon) => daemon.stop()));
    daemons = [];
    rmSync(scratch, { recursive: true, force: true });
  };
}
