import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort, installedServer, startDaemonOnPorts, type Daemon } from '@bentoport/test-utils';

/** What the tests receive through `inject('http')`. */
export interface HttpServers {
  /** Why the server tests are skipped, when they are. */
  skip?: string;
  /** nginx with WebDAV (PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, OPTIONS), plain HTTP. */
  davPort: number;
  /** The same server over TLS with a self-signed certificate for 127.0.0.1 and localhost. */
  tlsPort: number;
  /** nginx accepting PUT and DELETE but no WebDAV (no OPTIONS, MOVE or PROPFIND): a presigned-URL-like server. */
  plainPort: number;
  /** The document root of the WebDAV server (`/private/` needs Basic auth; `/no-propfind/` answers PROPFIND and OPTIONS with 405). */
  davRoot: string;
  /** The document root of the plain server. */
  plainRoot: string;
  /** The access log of both servers: `<port> "<request line>" <status> auth="<Authorization>"`. */
  accessLog: string;
  /** User and password accepted under `/private/`. */
  user: string;
  password: string;
  /** The self-signed certificate (PEM) the TLS server presents. */
  certificate: string;
  /** tinyproxy, and the log it writes every connection to. */
  proxyPort: number;
  proxyLog: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    http: HttpServers;
  }
}

const DAV_MODULE = '/usr/lib/nginx/modules/ngx_http_dav_ext_module.so';
const USER = 'dav-user';
// nginx ends an htpasswd password at ':', so none here; the rest still needs percent-encoding in a URL.
const PASSWORD = 'p@ss/w%rd#secret';


function nginxConfig(scratch: string, ports: { dav: number; tls: number; plain: number }): string {
  const dav = 'dav_methods PUT DELETE MKCOL COPY MOVE; dav_ext_methods PROPFIND OPTIONS; dav_access user:rw group:r all:r;';
  return `load_module ${DAV_MODULE};
user root;
daemon off;
worker_processes 1;
pid ${scratch}/nginx.pid;
error_log ${scratch}/error.log;
events { worker_connections 256; }
http {
  log_format withauth '$server_port "$request" $status auth="$http_authorization"';
  access_log ${scratch}/access.log withauth;
  client_body_temp_path ${scratch}/body-temp;
  sendfile on;
  server {
    listen 127.0.0.1:${ports.dav};
    listen 127.0.0.1:${ports.tls} ssl;
    ssl_certificate ${scratch}/cert.pem;
    ssl_certificate_key ${scratch}/key.pem;
    root ${scratch}/dav;
    client_max_body_size 0;
    location / { ${dav} }
    # WebDAV without the PROPFIND extension (no listing), as some minimal servers are.
    location /no-propfind/ { dav_methods PUT DELETE MKCOL COPY MOVE; dav_access user:rw group:r all:r; }
    location /private/ {
      ${dav}
      auth_basic "bentoport";
      auth_basic_user_file ${scratch}/htpasswd;
    }
  }
  server {
    listen 127.0.0.1:${ports.plain};
    root ${scratch}/plain;
    client_max_body_size 0;
    location / { dav_methods PUT DELETE; create_full_put_path on; }
  }
}
`;
}

function tinyproxyConfig(scratch: string, port: number): string {
  return ['User root', 'Group root', `Port ${port}`, 'Listen 127.0.0.1', 'Allow 127.0.0.1', 'DisableViaHeader Yes', 'LogLevel Info', `LogFile "${scratch}/tinyproxy.log"`, ''].join('\n');
}

let daemons: Daemon[] = [];
let scratch = '';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const empty: HttpServers = {
    davPort: 0, tlsPort: 0, plainPort: 0, davRoot: '', plainRoot: '', accessLog: '', user: USER, password: PASSWORD, certificate: '', proxyPort: 0, proxyLog: '',
  };
  const nginx = installedServer(['/usr/sbin/nginx', '/usr/bin/nginx']);
  const tinyproxy = installedServer(['/usr/bin/tinyproxy', '/usr/sbin/tinyproxy']);
  const missing =
    nginx === undefined ? 'nginx is not installed (apt-get install -y nginx libnginx-mod-http-dav-ext)'
    : !existsSync(DAV_MODULE) ? 'the nginx WebDAV extension is not installed (apt-get install -y libnginx-mod-http-dav-ext)'
    : tinyproxy === undefined ? 'tinyproxy is not installed (apt-get install -y tinyproxy)'
    : process.getuid?.() !== 0 ? 'the nginx and tinyproxy tests start the servers as root (user root in their configs); run them as root'
    : undefined;
  if (missing !== undefined) {
    if (process.env.CI === 'true') throw new Error(`CI=true and ${missing}`);
    project.provide('http', { ...empty, skip: missing });
    return async () => {};
  }
  scratch = mkdtempSync(path.join(tmpdir(), 'bentoport-http-servers-'));
  for (const directory of ['dav', 'dav/private', 'dav/no-propfind', 'plain', 'body-temp']) mkdirSync(path.join(scratch, directory));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', path.join(scratch, 'key.pem'), '-out', path.join(scratch, 'cert.pem'),
  ], { stdio: 'ignore' });
  writeFileSync(path.join(scratch, 'htpasswd'), `${USER}:{PLAIN}${PASSWORD}\n`);
  const ports = { dav: await freePort(), tls: await freePort(), plain: await freePort() };
  const proxyPort = await freePort();
  writeFileSync(path.join(scratch, 'nginx.conf'), nginxConfig(scratch, ports));
  writeFileSync(path.join(scratch, 'tinyproxy.conf'), tinyproxyConfig(scratch, proxyPort));
  writeFileSync(path.join(scratch, 'tinyproxy.log'), '');
  try {
    daemons.push(await startDaemonOnPorts(nginx as string, ['-c', path.join(scratch, 'nginx.conf')], [ports.dav, ports.tls, ports.plain]));
    daemons.push(await startDaemonOnPorts(tinyproxy as string, ['-d', '-c', path.join(scratch, 'tinyproxy.conf')], [proxyPort]));
  } catch (error) {
    await Promise.all(daemons.map((daemon) => daemon.stop()));
    throw error;
  }
  project.provide('http', {
    davPort: ports.dav,
    tlsPort: ports.tls,
    plainPort: ports.plain,
    davRoot: path.join(scratch, 'dav'),
    plainRoot: path.join(scratch, 'plain'),
    accessLog: path.join(scratch, 'access.log'),
    user: USER,
    password: PASSWORD,
    certificate: readFileSync(path.join(scratch, 'cert.pem'), 'utf8'),
    proxyPort,
    proxyLog: path.join(scratch, 'tinyproxy.log'),
  });
  return async () => {
    await Promise.all(daemons.map((daemon) => daemon.stop()));
    daemons = [];
    rmSync(scratch, { recursive: true, force: true });
  };
}
