/**
 * The servers of the network rows of `pnpm bench`, each started on 127.0.0.1 for the run: nginx
 * with WebDAV (HTTP), moto (S3), vsftpd (FTP) and OpenSSH's sshd (SFTP). Each says how bentoport
 * reaches a file on it and how the reference pipes move bytes to and from the same file: a shell
 * fragment that uploads its stdin and one that prints the file on stdout (curl, `aws s3 cp`,
 * `ssh cat`). Servers and clients are spawned here only: the product never does.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NetworkTransport } from './bench-settings.js';
import { commandSucceeds, ensureLocalUser, freePort, freePortRange, installedServer, startDaemon, waitForBanner, type Daemon } from '@bentoport/test-utils';


/** One file moved whole by the server's usual client: the `less: moves one file` references. */
export interface FileMove {
  tool: string;
  command: string[];
}

export interface NetworkServer {
  transport: NetworkTransport;
  /** For the log: what serves and where. */
  description: string;
  /** What bentoport is given for the file `name` on the server. */
  url(name: string): string;
  /** Environment for bentoport's process (the SFTP key and known_hosts). */
  env: NodeJS.ProcessEnv;
  /** A shell fragment that stores its stdin as `name` on the server, printing nothing (its stdout is the hash's pipe). */
  uploadStdin(name: string): string;
  /** A shell fragment that writes the file `name` on the server to its stdout. */
  downloadStdout(name: string): string;
  /** The client's tool name in the download pipe's label, and in the upload pipe's unless `uploadClient` says otherwise (`curl`, `aws s3 cp`, `ssh cat`). */
  client: string;
  /**
   * The upload pipe's tool name in its label, where it differs from `client`: over SFTP, `ssh cat
   * && sync`, since bentoport's SFTP writer has the server flush the file (fsync@openssh.com).
   * @default client
   */
  uploadClient?: string;
  /** The file-to-file client commands, moving a local archive up and the server's file down. */
  put(local: string, name: string): FileMove;
  get(name: string, local: string): FileMove;
  /** Remove every file uploaded so far, so that each upload writes a new file. */
  clear(): Promise<void>;
  stop(): Promise<void>;
}

/** Single-quoted for sh. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

const DAV_MODULE = '/usr/lib/nginx/modules/ngx_http_dav_ext_module.so';

/** A directory on the server's disk that the server's own user may write (mkdtemp's 0700 parents must let it through). */
function ownedDirectory(parent: string, name: string, user: string | undefined): string {
  const directory = path.join(parent, name);
  mkdirSync(directory, { recursive: true });
  if (user !== undefined) {
    chmodSync(parent, 0o755);
    const id = (flag: string) => Number(execFileSync('id', [flag, user]).toString().trim());
    chownSync(directory, id('-u'), id('-g'));
  }
  return directory;
}

/** Empty the served directory, keeping it (and its owner). */
async function emptyDirectory(directory: string, user: string | undefined): Promise<void> {
  await rm(directory, { recursive: true, force: true });
  ownedDirectory(path.dirname(directory), path.basename(directory), user);
}

async function startNginx(scratch: string): Promise<NetworkServer> {
  const nginx = installedServer(['/usr/sbin/nginx', '/usr/bin/nginx']);
  if (nginx === undefined) throw new Error('nginx is not installed (apt-get install -y nginx)');
  const directory = path.join(scratch, 'nginx');
  const root = ownedDirectory(directory, 'root', undefined);
  mkdirSync(path.join(directory, 'body-temp'));
  const port = await freePort();
  const module = existsSync(DAV_MODULE) ? `load_module ${DAV_MODULE};\n` : '';
  writeFileSync(
    path.join(directory, 'nginx.conf'),
    `${module}user root;\ndaemon off;\nworker_processes 1;\npid ${directory}/nginx.pid;\nerror_log ${directory}/error.log;\n` +
      `events { worker_connections 64; }\nhttp {\n  access_log off;\n  sendfile on;\n  client_body_temp_path ${directory}/body-temp;\n` +
      `  server {\n    listen 127.0.0.1:${port};\n    root ${root};\n    client_max_body_size 0;\n` +
      `    location / { dav_methods PUT DELETE MKCOL COPY MOVE; ${module === '' ? '' : 'dav_ext_methods PROPFIND OPTIONS;'} }\n  }\n}\n`,
  );
  const daemon = startDaemon(nginx, ['-c', path.join(directory, 'nginx.conf')]);
  await waitForBanner(port, '', daemon);
  const base = `http://127.0.0.1:${port}`;
  return {
    transport: 'http',
    description: `nginx WebDAV on 127.0.0.1:${port}`,
    url: (name) => `${base}/${name}`,
    env: {},
    client: 'curl',
    uploadStdin: (name) => `curl -sS -f -T - ${shellQuote(`${base}/${name}`)} > /dev/null`,
    downloadStdout: (name) => `curl -sS -f ${shellQuote(`${base}/${name}`)}`,
    put: (local, name) => ({ tool: 'curl -T file', command: ['curl', '-sS', '-f', '-T', local, `${base}/${name}`] }),
    get: (name, local) => ({ tool: 'curl -o file', command: ['curl', '-sS', '-f', '-o', local, `${base}/${name}`] }),
    clear: () => emptyDirectory(root, undefined),
    stop: () => daemon.stop(),
  };
}

/** moto on a free port with the bench's bucket; this process's environment (inherited by bentoport and `aws`) points at it. */
async function startMoto(): Promise<NetworkServer> {
  if (!commandSucceeds('aws', ['--version'])) throw new Error('the aws CLI is not installed (apt-get install -y awscli): it is the S3 pipes\' client');
  const port = await freePort();
  const daemon = startDaemon('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)]);
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (!(await fetch(`${endpoint}/`).then((response) => response.ok, () => false))) {
    if (Date.now() > deadline || daemon.process.exitCode !== null) {
      await daemon.stop();
      throw new Error(`moto (python3 -m moto.server) did not start: it needs python3 with moto[server]. ${daemon.output().slice(-300)}`);
    }
    await sleep(200);
  }
  const bucket = 'bentoport-bench';
  const created = await fetch(`${endpoint}/${bucket}`, { method: 'PUT' });
  if (!created.ok) throw new Error(`could not create the bench bucket: ${created.status}`);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  /** Every key handed out, so that `clear` can delete them: moto holds objects in memory (about twice their bytes). */
  const keys = new Set<string>();
  const object = (name: string) => {
    keys.add(name);
    return `s3://${bucket}/${name}`;
  };
  const aws = ['aws', '--endpoint-url', endpoint, 's3', 'cp', '--quiet'];
  return {
    transport: 's3',
    description: `moto on ${endpoint}`,
    url: object,
    env: {},
    client: 'aws s3 cp',
    uploadStdin: (name) => `${aws.join(' ')} - ${shellQuote(object(name))} > /dev/null`,
    downloadStdout: (name) => `${aws.join(' ')} ${shellQuote(object(name))} -`,
    put: (local, name) => ({ tool: 'aws s3 cp file', command: [...aws, local, object(name)] }),
    get: (name, local) => ({ tool: 'aws s3 cp to file', command: [...aws, object(name), local] }),
    clear: async () => {
      for (const key of keys) await fetch(`${endpoint}/${bucket}/${key}`, { method: 'DELETE' });
    },
    stop: () => daemon.stop(),
  };
}

async function startVsftpd(scratch: string): Promise<NetworkServer> {
  const vsftpd = installedServer(['/usr/sbin/vsftpd']);
  if (vsftpd === undefined) throw new Error('vsftpd is not installed (apt-get install -y vsftpd)');
  const user = 'bentoport-ftp';
  const password = 'Ftp-t3st:p@ss/w%rd';
  mkdirSync('/tmp/bentoport-ftp-user-home', { recursive: true });
  ensureLocalUser(user, password, '/tmp/bentoport-ftp-user-home');
  const directory = ownedDirectory(scratch, 'ftp-files', user);
  mkdirSync('/var/run/vsftpd/empty', { recursive: true });
  const port = await freePort();
  const passive = await freePortRange(10);
  const config = path.join(scratch, 'vsftpd.conf');
  writeFileSync(config, [
    'listen=YES', 'listen_address=127.0.0.1', `listen_port=${port}`, 'anonymous_enable=NO', 'local_enable=YES', 'write_enable=YES',
    'local_umask=022', 'pasv_enable=YES', `pasv_min_port=${passive}`, `pasv_max_port=${passive + 9}`, 'pasv_address=127.0.0.1',
    'seccomp_sandbox=NO', 'background=NO', 'pam_service_name=vsftpd', 'secure_chroot_dir=/var/run/vsftpd/empty', 'xferlog_enable=NO', '',
  ].join('\n'));
  const daemon: Daemon = startDaemon(vsftpd, [config]);
  await waitForBanner(port, '220', daemon);
  const login = `${user}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  // curl reads an FTP URL's path from the login directory; %2F makes it absolute.
  const curlUrl = (name: string) => `ftp://${login}/%2F${directory.slice(1)}/${name}`;
  return {
    transport: 'ftp',
    description: `vsftpd on 127.0.0.1:${port}`,
    url: (name) => `ftp://${login}${directory}/${name}`,
    env: {},
    client: 'curl',
    uploadStdin: (name) => `curl -sS -f -T - ${shellQuote(curlUrl(name))} > /dev/null`,
    downloadStdout: (name) => `curl -sS -f ${shellQuote(curlUrl(name))}`,
    put: (local, name) => ({ tool: 'curl -T file', command: ['curl', '-sS', '-f', '-T', local, curlUrl(name)] }),
    get: (name, local) => ({ tool: 'curl -o file', command: ['curl', '-sS', '-f', '-o', local, curlUrl(name)] }),
    clear: () => emptyDirectory(directory, user),
    stop: () => daemon.stop(),
  };
}

async function startSshd(scratch: string): Promise<NetworkServer> {
  const sshd = installedServer(['/usr/sbin/sshd']);
  if (sshd === undefined) throw new Error('sshd is not installed (apt-get install -y openssh-server)');
  const user = 'bentoport-sftp';
  mkdirSync('/tmp/bentoport-sftp-user-home', { recursive: true });
  ensureLocalUser(user, 'Sftp-t3st:p@ss/w%rd', '/tmp/bentoport-sftp-user-home');
  const directory = ownedDirectory(scratch, 'sftp-files', user);
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
  const daemon = startDaemon(sshd, ['-D', '-e', '-f', config]);
  await waitForBanner(port, 'SSH-', daemon);
  const [type, key] = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/);
  const knownHosts = path.join(sshHome, '.ssh', 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${type} ${key}\n`);
  const options = `-p ${port} -i ${shellQuote(clientKey)} -o UserKnownHostsFile=${shellQuote(knownHosts)} -o StrictHostKeyChecking=yes -o BatchMode=yes`;
  const remote = (name: string) => `${directory}/${name}`;
  const sftp = (batch: string): string[] => [
    'sh', '-c', `printf '%s\\n' "$1" | sftp -q -b - ${options.replace('-p ', '-P ')} ${user}@127.0.0.1 >/dev/null`, 'sh', batch,
  ];
  return {
    transport: 'sftp',
    description: `OpenSSH sshd (internal-sftp) on 127.0.0.1:${port}`,
    url: (name) => `sftp://${user}@127.0.0.1:${port}${remote(name)}`,
    // bentoport finds the key and known_hosts under ~/.ssh like OpenSSH; no agent.
    env: { HOME: sshHome, SSH_AUTH_SOCK: '' },
    client: 'ssh cat',
    // The remote command is one argument of ssh, run by the user's shell: quoted twice.
    // Same work as bentoport, whose SFTP writer has the server fsync the file before the commit
    // (its `fsync` default): ~0.5 s of a 1 GiB upload here. `sync FILE` syncs that file alone
    // with GNU coreutils 8.24 or later (Debian 12 has 9.1); older ones sync every file system.
    uploadClient: 'ssh cat && sync',
    uploadStdin: (name) => `ssh ${options} ${user}@127.0.0.1 ${shellQuote(`cat > ${shellQuote(remote(name))} && sync ${shellQuote(remote(name))}`)} > /dev/null`,
    downloadStdout: (name) => `ssh ${options} ${user}@127.0.0.1 ${shellQuote(`cat ${shellQuote(remote(name))}`)}`,
    put: (local, name) => ({ tool: 'sftp put', command: sftp(`put ${local} ${remote(name)}`) }),
    get: (name, local) => ({ tool: 'sftp get', command: sftp(`get ${remote(name)} ${local}`) }),
    clear: () => emptyDirectory(directory, user),
    stop: () => daemon.stop(),
  };
}

/** Start the server of `transport` in `scratch`; FTP and SFTP need root (they create a local user). */
export async function startNetworkServer(transport: NetworkTransport, scratch: string): Promise<NetworkServer> {
  if ((transport === 'ftp' || transport === 'sftp') && process.getuid?.() !== 0) {
    throw new Error(`the ${transport} rows need root to create the server's local user`);
  }
  switch (transport) {
    case 'http':
      return startNginx(scratch);
    case 's3':
      return startMoto();
    case 'ftp':
      return startVsftpd(scratch);
    case 'sftp':
      return startSshd(scratch);
  }
}
