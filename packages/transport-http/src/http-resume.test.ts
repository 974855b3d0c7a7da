import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { isBentoportError } from '@bentoport/core';
import { startCountingProxy, type CountingProxy } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { httpTransport } from './http-transport.js';
import { patternBytes, readAll } from './test-support/helpers.js';
import { httpLocation, uniqueName } from './test-support/locations.js';
import { startRecordingServer, type RecordingServer } from './test-support/node-server.js';

const servers = inject('http');
const MiB = 1024 * 1024;

/** A proxy to nginx that delivers exactly `bytes` of the download, then ends it cleanly. */
async function cuttingProxy(bytes: number, onCut?: () => void): Promise<CountingProxy> {
  const proxy = await startCountingProxy({ targetPort: servers.davPort });
  proxy.cutAfter(bytes, { direction: 'down', how: 'end', onCut });
  return proxy;
}

describe.skipIf(servers.skip !== undefined)('resuming a dropped download (nginx behind a counting TCP proxy)', () => {
  const directory = uniqueName('resume');
  const size = 16 * MiB + 12_345;
  const original = patternBytes(size, 1);

  beforeAll(() => {
    mkdirSync(path.join(servers.davRoot, directory));
    writeFileSync(path.join(servers.davRoot, directory, 'big.bin'), original);
  });

  it('resumes from the last good byte after a cut, re-sending under 5% of the bytes, byte-identical', async () => {
    const proxy = await cuttingProxy(6 * MiB);
    try {
      const transport = httpTransport({ retryDelayMs: 20 });
      const data = await readAll(await transport.read(httpLocation('http', `127.0.0.1:${proxy.port}`, `/${directory}/big.bin`)));
      expect(proxy.cuts).toBe(1);
      expect(proxy.connections).toBe(2);
      expect(data.length).toBe(size);
      expect(data.equals(original)).toBe(true);
      const resent = proxy.bytesDown - size;
      expect(resent).toBeGreaterThan(0);
      expect(resent / size).toBeLessThan(0.05);
    } finally {
      await proxy.close();
    }
  });

  it('resumes a ranged read and still stops at its end', async () => {
    const proxy = await cuttingProxy(2 * MiB);
    try {
      const transport = httpTransport({ retryDelayMs: 20 });
      const start = 1_000_001;
      const end = start + 5 * MiB;
      const data = await readAll(await transport.read(httpLocation('http', `127.0.0.1:${proxy.port}`, `/${directory}/big.bin`), { start, end }));
      expect(proxy.cuts).toBe(1);
      expect(data.equals(original.subarray(start, end))).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('detects an object replaced mid-download (new ETag) with ERR_CORRUPT_ARCHIVE instead of joining two versions', async () => {
    const file = path.join(servers.davRoot, directory, 'replaced.bin');
    writeFileSync(file, original);
    const proxy = await cuttingProxy(3 * MiB, () => writeFileSync(file, patternBytes(size + 1, 2)));
    try {
      const stream = await httpTransport({ retryDelayMs: 20 }).read(httpLocation('http', `127.0.0.1:${proxy.port}`, `/${directory}/replaced.bin`));
      const error = await readAll(stream).then(() => undefined, (caught: unknown) => caught);
      expect(isBentoportError(error, 'ERR_CORRUPT_ARCHIVE')).toBe(true);
      expect((error as Error).message).toMatch(/changed on the server during the download \(ETag "[^"]+" became ETag "[^"]+"\)/);
    } finally {
      await proxy.close();
    }
  });

  it('gives up after `retries` failed resumes with ERR_IO', async () => {
    const proxy = await cuttingProxy(MiB);
    const stream = await httpTransport({ retryDelayMs: 20, retries: 2 }).read(httpLocation('http', `127.0.0.1:${proxy.port}`, `/${directory}/big.bin`));
    // Nothing listens on the proxy's port any more: every resume fails to connect.
    await proxy.close();
    const error = await readAll(stream).then(() => undefined, (caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_IO')).toBe(true);
    expect((error as Error).message).toContain('2 resumes failed');
  });
});

describe('servers that need care', () => {
  let server: RecordingServer;
  const payload = patternBytes(10_000, 3);

  beforeAll(async () => {
    // Like a presigned GET URL: HEAD is not signed (403), GET with a Range is; PUT insists on a length.
    server = await startRecordingServer((request, response) => {
      if (request.method === 'HEAD') {
        response.writeHead(403).end();
      } else if (request.method === 'GET') {
        const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
        if (range === null) {
          response.writeHead(200, { 'content-length': payload.length }).end(payload);
        } else {
          const start = Number(range[1]);
          const end = range[2] === '' ? payload.length - 1 : Number(range[2]);
          response.writeHead(206, { 'content-range': `bytes ${start}-${end}/${payload.length}`, 'content-length': end - start + 1, etag: '"one"' });
          response.end(payload.subarray(start, end + 1));
        }
      } else if (request.method === 'PUT') {
        if (request.headers['content-length'] === undefined) {
          response.writeHead(411, { connection: 'close' }).end();
          request.destroy();
          return;
        }
        request.resume();
        request.on('end', () => response.writeHead(200).end());
      } else {
        response.writeHead(405).end();
      }
    });
  });
  afterAll(() => server.close());

  it('stats with a one-byte ranged GET when HEAD is refused', async () => {
    const stat = await httpTransport().stat(httpLocation('http', `127.0.0.1:${server.port}`, '/asset.bin', 'X-Amz-Signature=abc'));
    expect(stat).toMatchObject({ type: 'file', size: payload.length, etag: '"one"' });
    expect(server.requests.slice(-2).map((request) => `${request.method} ${request.headers.range ?? ''}`)).toEqual(['HEAD ', 'GET bytes=0-0']);
  });

  it('fails clearly when a server needs Content-Length and the size is unknown, and sends it when known', async () => {
    const transport = httpTransport({ webdav: false });
    const location = httpLocation('http', `127.0.0.1:${server.port}`, '/upload.bin', 'X-Amz-Signature=topsecret');
    const writer = await transport.write(location);
    writer.stream.on('error', () => {});
    writer.stream.write(Buffer.alloc(200_000));
    writer.stream.end(Buffer.alloc(10));
    const error = await finished(writer.stream).then(() => writer.commit()).then(() => undefined, (caught: unknown) => caught);
    await writer.abort();
    expect(isBentoportError(error, 'ERR_IO')).toBe(true);
    expect((error as Error).message).toContain('411 Length Required');
    expect((error as Error).message).toContain('needs the size in advance');
    expect((error as Error).message).not.toContain('topsecret');

    const sized = await transport.write(location, { sizeHint: 200_010 });
    sized.stream.write(Buffer.alloc(200_000));
    sized.stream.end(Buffer.alloc(10));
    await finished(sized.stream);
    await sized.commit();
    expect(server.requests.at(-1)).toMatchObject({ method: 'PUT', headers: { 'content-length': '200010' } });
  });
});
