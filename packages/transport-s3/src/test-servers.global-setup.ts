/**
 * vitest global setup: a real moto S3 server and a real tinyproxy on 127.0.0.1, on free ports,
 * stopped by PID afterwards. A missing binary is reported (tests skip with that message), except
 * with CI=true, where the setup fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { commandSucceeds, installedServer } from '@bentoport/test-utils';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `http://127.0.0.1:PORT` of moto, or '' when it could not be started. */
    motoEndpoint: string;
    /** Why moto is missing ('' when it runs). */
    motoMissing: string;
    /** `http://127.0.0.1:PORT` of tinyproxy, or ''. */
    tinyproxyUrl: string;
    tinyproxyLog: string;
    tinyproxyMissing: string;
    /** `https://localhost:PORT` of a second moto with a self-signed certificate, or ''. */
    motoTlsEndpoint: string;
    /** The PEM certificate that moto presents (for NODE_EXTRA_CA_CERTS). */
    motoTlsCertificate: string;
  }
}

const READY_TIMEOUT_MILLISECONDS = 30_000;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitFor(check: () => Promise<boolean>, what: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MILLISECONDS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before it was ready`);
    if (await check()) return;
    await sleep(200);
  }
  throw new Error(`${what} was not ready within ${READY_TIMEOUT_MILLISECONDS / 1000} s`);
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

function stop(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function missing(what: string, install: string): string {
  const message = `${what} is not installed: ${install}`;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${message}`);
  return message;
}

/**
 * moto (5.x) answers ListMultipartUploads with one fixed `Initiated` time (2010-11-10T20:48:33Z)
 * for every upload. S3 gives the time the upload was created, which the transport uses to find an
 * upload whose CreateMultipartUpload answer was lost. This launcher stamps each upload with its
 * creation time and reports that, as S3 does; should moto's internals have moved, it runs moto
 * unchanged (and the tests that need the times fail).
 */
const MOTO_WITH_INITIATED_TIMES = `
import datetime, sys
try:
    import moto.s3.models as models, moto.s3.responses as responses
    initiated = {}
    original_init = models.FakeMultipart.__init__
    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        now = datetime.datetime.now(datetime.timezone.utc)
        initiated[self.id] = now.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (now.microsecond // 1000)
    models.FakeMultipart.__init__ = init
    original_result = responses.ActionResult
    def action_result(result, *args, **kwargs):
        if isinstance(result, dict) and isinstance(result.get('Uploads'), list):
            for upload in result['Uploads']:
                upload['Initiated'] = initiated.get(upload.get('UploadId'), upload.get('Initiated'))
        return original_result(result, *args, **kwargs)
    responses.ActionResult = action_result
except Exception as error:
    print('moto launcher: Initiated times not patched:', error, file=sys.stderr)
from moto.server import main
main(sys.argv[1:])
`;

async function startMoto(tls?: { certificate: string; key: string }): Promise<{ child?: ChildProcess; endpoint: string; missing: string }> {
  if (!commandSucceeds('python3', ['-c', 'import moto.server, flask'])) return { endpoint: '', missing: missing('moto (python3 -m moto.server)', "pip install 'moto[server]'") };
  const port = await freePort();
  const tlsArguments = tls === undefined ? [] : ['-c', tls.certificate, '-k', tls.key];
  const child = spawn('python3', ['-c', MOTO_WITH_INITIATED_TIMES, '-H', '127.0.0.1', '-p', String(port), ...tlsArguments], { stdio: 'ignore' });
  // By name for TLS: a proxy tunnel (CONNECT) checks the certificate against a host name, never an IP.
  const endpoint = tls === undefined ? `http://127.0.0.1:${port}` : `https://localhost:${port}`;
  const ready = tls === undefined ? async () => (await fetch(`${endpoint}/`).catch(() => undefined))?.ok === true : () => portAnswers(port);
  await waitFor(ready, 'moto', child);
  return { child, endpoint, missing: '' };
}

/** A self-signed certificate for 127.0.0.1, or undefined without openssl. */
function selfSignedCertificate(directory: string): { certificate: string; key: string } | undefined {
  const certificate = path.join(directory, 'moto-cert.pem');
  const key = path.join(directory, 'moto-key.pem');
  const made = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', certificate],
    { stdio: 'ignore' },
  );
  return made.status === 0 ? { certificate, key } : undefined;
}

function findTinyproxy(): string | undefined {
  return installedServer(['/usr/bin/tinyproxy', '/usr/sbin/tinyproxy', '/usr/local/bin/tinyproxy']);
}

async function startTinyproxy(directory: string): Promise<{ child?: ChildProcess; url: string; log: string; missing: string }> {
  const binary = findTinyproxy();
  if (binary === undefined) return { url: '', log: '', missing: missing('tinyproxy', 'apt-get install -y tinyproxy') };
  const port = await freePort();
  const log = path.join(directory, 'tinyproxy.log');
  const config = path.join(directory, 'tinyproxy.conf');
  const user = process.getuid?.() === 0 ? 'User root\nGroup root\n' : '';
  await writeFile(
    config,
    `${user}Port ${port}\nListen 127.0.0.1\nAllow 127.0.0.1\nDisableViaHeader Yes\nLogLevel Info\nLogFile "${log}"\nMaxClients 50\n`,
  );
  const child = spawn(binary, ['-d', '-c', config], { stdio: 'ignore' });
  await waitFor(() => portAnswers(port), 'tinyproxy', child);
  return { child, url: `http://127.0.0.1:${port}`, log, missing: '' };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const directory = await mkdtemp(path.join(tmpdir(), 'bentoport-s3-servers-'));
  const moto = await startMoto();
  let proxy: Awaited<ReturnType<typeof startTinyproxy>> | undefined;
  let motoTls: Awaited<ReturnType<typeof startMoto>> | undefined;
  const tls = moto.endpoint === '' ? undefined : selfSignedCertificate(directory);
  try {
    proxy = await startTinyproxy(directory);
    if (tls !== undefined) motoTls = await startMoto(tls);
  } catch (error) {
    await Promise.all([stop(moto.child), stop(proxy?.child)]);
    throw error;
  }
  project.provide('motoEndpoint', moto.endpoint);
  project.provide('motoMissing', moto.missing);
  project.provide('tinyproxyUrl', proxy.url);
  project.provide('tinyproxyLog', proxy.log);
  project.provide('tinyproxyMissing', proxy.missing);
  project.provide('motoTlsEndpoint', motoTls?.endpoint ?? '');
  project.provide('motoTlsCertificate', tls?.certificate ?? '');
  return async () => {
    await Promise.all([stop(moto.child), stop(proxy?.child), stop(motoTls?.child)]);
    await rm(directory, { recursive: true, force: true });
  };
}
