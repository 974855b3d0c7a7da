import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isBentoportError } from '@bentoport/core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { httpTransport } from './http-transport.js';
import { logLinesSince, logSize, putBytes, readAll } from './test-support/helpers.js';
import { httpLocation, uniqueName } from './test-support/locations.js';
import { startRecordingServer, type RecordingServer } from './test-support/node-server.js';

const servers = inject('http');

async function failureOf(operation: Promise<unknown>): Promise<Error> {
  const error = await operation.then(() => undefined, (caught: unknown) => caught);
  if (!(error instanceof Error)) throw new Error('expected a rejection');
  return error;
}

describe.skipIf(servers.skip !== undefined)('credentials against nginx Basic auth (/private/)', () => {
  const directory = uniqueName('private');
  const netrcDirectory = mkdtempSync(path.join(tmpdir(), 'bentoport-netrc-'));
  const encodedPassword = encodeURIComponent(servers.password);
  const host = `127.0.0.1:${servers.davPort}`;
  const file = `/private/${directory}/secret.bin`;

  beforeAll(() => {
    mkdirSync(path.join(servers.davRoot, 'private', directory), { recursive: true });
    writeFileSync(path.join(servers.davRoot, 'private', directory, 'secret.bin'), 'classified');
  });
  afterAll(() => rmSync(netrcDirectory, { recursive: true, force: true }));

  it('refuses a wrong password with ERR_AUTH on stat, read, write and list, never printing it', async () => {
    const transport = httpTransport({ netrc: false });
    const location = httpLocation('http', `${servers.user}:WrongPassw0rd@${host}`, file);
    for (const operation of [
      () => transport.stat(location),
      () => transport.read(location),
      () => transport.write(httpLocation('http', `${servers.user}:WrongPassw0rd@${host}`, `/private/${directory}/new.bin`)),
      () => transport.list!(httpLocation('http', `${servers.user}:WrongPassw0rd@${host}`, `/private/${directory}/`)),
    ]) {
      const error = await failureOf(operation());
      expect(isBentoportError(error, 'ERR_AUTH')).toBe(true);
      expect(error.message).not.toContain('WrongPassw0rd');
      expect(error.message).toContain(`${servers.user}:***@`);
    }
  });

  it('sends user:password from the URL as Basic auth', async () => {
    const transport = httpTransport({ netrc: false });
    const location = httpLocation('http', `${servers.user}:${encodedPassword}@${host}`, file);
    expect((await readAll(await transport.read(location))).toString()).toBe('classified');
    await putBytes(transport, httpLocation('http', `${servers.user}:${encodedPassword}@${host}`, `/private/${directory}/up.bin`), Buffer.from('up'));
    await expect(transport.stat(httpLocation('http', `${servers.user}:${encodedPassword}@${host}`, `/private/${directory}/up.bin`))).resolves.toMatchObject({ size: 2 });
  });

  it('takes credentials from a netrc file for the host when the URL has none', async () => {
    const netrc = path.join(netrcDirectory, 'netrc');
    writeFileSync(netrc, `machine example.org login nobody password nothing\nmachine 127.0.0.1\n  login ${servers.user}\n  password "${servers.password}"\n`);
    const location = httpLocation('http', host, file);
    expect((await readAll(await httpTransport({ netrc }).read(location))).toString()).toBe('classified');
    expect((await readAll(await httpTransport({ env: { NETRC: netrc } }).read(location))).toString()).toBe('classified');
    await expect(httpTransport({ netrc: false }).stat(location)).rejects.toMatchObject({ code: 'ERR_AUTH' });
  });

  it('sends header.<Name> parameters as headers and keeps them out of messages', async () => {
    const token = Buffer.from(`${servers.user}:${servers.password}`).toString('base64');
    const query = `header.Authorization=${encodeURIComponent(`Basic ${token}`)}`;
    const transport = httpTransport({ netrc: false });
    const before = logSize(servers.accessLog);
    expect((await readAll(await transport.read(httpLocation('http', host, file, query)))).toString()).toBe('classified');
    expect((await logLinesSince(servers.accessLog, before, 1, file)).some((line) => line.includes(`auth="Basic ${token}"`))).toBe(true);
    const error = await failureOf(transport.stat(httpLocation('http', host, `/private/${directory}/missing.bin`, query)));
    expect(isBentoportError(error, 'ERR_NOT_FOUND')).toBe(true);
    // header.* parameters are not part of the resource: the message names the URL without them.
    expect(error.message).toMatch(/^\[transport-http\] HEAD http:\/\/127\.0\.0\.1:\d+\/private\/[^?]*\/missing\.bin: 404 Not Found$/);
    expect(error.message).not.toContain(token);
  });

  it('redacts presigned signatures in messages', async () => {
    const error = await failureOf(
      httpTransport().read(httpLocation('http', host, '/no-such-object.bin', 'X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=0123456789abcdef')),
    );
    expect(isBentoportError(error, 'ERR_NOT_FOUND')).toBe(true);
    expect(error.message).toMatch(/^\[transport-http\] GET http:\/\/127\.0\.0\.1:\d+\/no-such-object\.bin\?X-Amz-Credential=\*\*\*&X-Amz-Signature=\*\*\*: 404 Not Found$/);
  });
});

describe('redirects', () => {
  let target: RecordingServer;
  let redirector: RecordingServer;
  const payload = Buffer.from('release asset bytes');

  beforeAll(async () => {
    target = await startRecordingServer((request, response) => {
      response.writeHead(200, { 'content-length': payload.length, etag: '"v1"', 'accept-ranges': 'bytes' });
      response.end(request.method === 'HEAD' ? undefined : payload);
    });
    redirector = await startRecordingServer((request, response) => {
      if (request.url?.startsWith('/same')) response.writeHead(302, { location: '/final' });
      else if (request.url?.startsWith('/loop')) response.writeHead(302, { location: '/loop' });
      else response.writeHead(302, { location: `${target.origin}/storage/asset.bin?X-Amz-Signature=abc` });
      response.end();
    });
  });
  afterAll(async () => {
    await target.close();
    await redirector.close();
  });

  it('drops credentials and custom headers when a redirect leaves the origin', async () => {
    const transport = httpTransport({ netrc: false, headers: { 'X-Team-Token': 'team-secret' } });
    const location = httpLocation('http', `alice:hunter2@127.0.0.1:${redirector.port}`, '/releases/asset.bin', 'header.X-Api-Key=key-secret');
    expect(await readAll(await transport.read(location))).toEqual(payload);
    const sent = redirector.requests.at(-1)!;
    expect(sent.headers.authorization).toBe(`Basic ${Buffer.from('alice:hunter2').toString('base64')}`);
    expect(sent.headers['x-api-key']).toBe('key-secret');
    expect(sent.headers['x-team-token']).toBe('team-secret');
    const received = target.requests.at(-1)!;
    expect(received.url).toBe('/storage/asset.bin?X-Amz-Signature=abc');
    expect(received.headers.authorization).toBeUndefined();
    expect(received.headers['x-api-key']).toBeUndefined();
    expect(received.headers['x-team-token']).toBeUndefined();
  });

  it('keeps them on a redirect within the origin', async () => {
    const transport = httpTransport({ netrc: false });
    await transport.stat(httpLocation('http', `alice:hunter2@127.0.0.1:${redirector.port}`, '/same'));
    const final = redirector.requests.at(-1)!;
    expect(final.url).toBe('/final');
    expect(final.headers.authorization).toBe(`Basic ${Buffer.from('alice:hunter2').toString('base64')}`);
  });

  it('stops after maxRedirects', async () => {
    const before = redirector.requests.length;
    await expect(httpTransport({ maxRedirects: 3 }).stat(httpLocation('http', `127.0.0.1:${redirector.port}`, '/loop'))).rejects.toMatchObject({
      code: 'ERR_IO',
      message: expect.stringContaining('more than 3 redirects'),
    });
    expect(redirector.requests.length - before).toBe(4);
  });
});
