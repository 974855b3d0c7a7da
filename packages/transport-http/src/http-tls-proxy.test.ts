import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isBentoportError } from '@bentoport/core';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { httpTransport } from './http-transport.js';
import { logSince, logSize, readAll } from './test-support/helpers.js';
import { httpLocation, uniqueName } from './test-support/locations.js';

const servers = inject('http');

describe.skipIf(servers.skip !== undefined)('TLS and proxies (nginx, tinyproxy)', () => {
  const directory = uniqueName('tls-proxy');
  const file = `/${directory}/asset.bin`;
  const content = 'served over the wire';
  const proxyUrl = `http://127.0.0.1:${servers.proxyPort}`;
  /** Every line of the proxy's log: no other test file of this package goes through the proxy. */
  const proxyLogSince = (offset: number) => logSince(servers.proxyLog, offset, '').join('\n');

  beforeAll(() => {
    mkdirSync(path.join(servers.davRoot, directory));
    writeFileSync(path.join(servers.davRoot, directory, 'asset.bin'), content);
  });

  it('trusts a self-signed server only when its certificate is passed as ca, or verification is turned off', async () => {
    const location = httpLocation('https', `127.0.0.1:${servers.tlsPort}`, file);
    const error = await httpTransport({ retries: 0 }).stat(location).then(() => undefined, (caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_AUTH')).toBe(true);
    expect((error as Error).message).toMatch(/TLS certificate was not verified \(DEPTH_ZERO_SELF_SIGNED_CERT.*trust its CA with the `ca` option$/);
    expect((await readAll(await httpTransport({ ca: servers.certificate }).read(location))).toString()).toBe(content);
    await expect(httpTransport({ rejectUnauthorized: false }).stat(location)).resolves.toMatchObject({ type: 'file' });
  });

  it('sends http requests through HTTP_PROXY, as the proxy log shows', async () => {
    const before = logSize(servers.proxyLog);
    const transport = httpTransport({ env: { HTTP_PROXY: proxyUrl, NO_PROXY: '' } });
    const location = httpLocation('http', `127.0.0.1:${servers.davPort}`, file);
    await transport.stat(location);
    expect((await readAll(await transport.read(location))).toString()).toBe(content);
    const log = proxyLogSince(before);
    expect(log).toContain(`Established connection to host "127.0.0.1"`);
    expect(log).toContain(String(servers.davPort));
  });

  it('tunnels https through HTTPS_PROXY with CONNECT, verifying the server with ca', async () => {
    const before = logSize(servers.proxyLog);
    const transport = httpTransport({ ca: servers.certificate, env: { HTTPS_PROXY: proxyUrl, NO_PROXY: '' } });
    expect((await readAll(await transport.read(httpLocation('https', `127.0.0.1:${servers.tlsPort}`, file)))).toString()).toBe(content);
    const log = proxyLogSince(before);
    expect(log).toMatch(new RegExp(`CONNECT 127\\.0\\.0\\.1:${servers.tlsPort}`));
  });

  it('bypasses the proxy for hosts in NO_PROXY', async () => {
    const before = logSize(servers.proxyLog);
    const transport = httpTransport({ env: { HTTP_PROXY: proxyUrl, NO_PROXY: 'example.com,127.0.0.0/8' } });
    expect((await readAll(await transport.read(httpLocation('http', `127.0.0.1:${servers.davPort}`, file)))).toString()).toBe(content);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(proxyLogSince(before)).not.toContain('Established connection');
  });
});
