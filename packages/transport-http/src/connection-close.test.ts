import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Transport } from '@bentoport/spec';
import { startClosingServer, type ClosingServer } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpTransport } from './http-transport.js';
import { httpLocation } from './test-support/locations.js';

/** Enough attempts that the race (the FIN arriving while the body is still unread) is met every time. */
const ATTEMPTS = 30;
const BODY = randomBytes(2 * 1024 * 1024 + 17);
const DIGEST = createHash('sha256').update(BODY).digest('hex');

/** Read the stream a little slower than loopback delivers it, as a decompressor writing to disk does. */
async function slowDigest(stream: AsyncIterable<Buffer>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) {
    hash.update(chunk);
    await sleep(1);
  }
  return hash.digest('hex');
}

/**
 * `python3 -m http.server` and other HTTP/1.0-minded servers close the connection after every
 * response. undici 7 crashed the process there with an uncaught `AssertionError` whenever the
 * connection ended while its parser was paused for backpressure (about half of the imports of a
 * 2 MiB archive). Every read must instead deliver the whole body, every time.
 */
describe('httpTransport against a server that closes the connection after each response', () => {
  let server: ClosingServer;
  let transport: Transport;
  beforeAll(async () => {
    server = await startClosingServer({
      '/x.tar.gz': { body: BODY, headers: { 'Content-Type': 'application/gzip' } },
      '/eof.tar.gz': { body: BODY, contentLength: false },
    });
    transport = httpTransport({ netrc: false, retries: 0 });
  });
  afterAll(() => server.close());

  it.each([
    ['with Content-Length', '/x.tar.gz'],
    ['ended by the connection (no Content-Length)', '/eof.tar.gz'],
  ])(`reads the whole body ${ATTEMPTS} times in a row, %s`, async (_, pathName) => {
    const location = httpLocation('http', `127.0.0.1:${server.port}`, pathName);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const stream = (await transport.read(location)) as AsyncIterable<Buffer>;
      expect(await slowDigest(stream)).toBe(DIGEST);
    }
  });

  it('stats then reads, as an import does', async () => {
    const location = httpLocation('http', `127.0.0.1:${server.port}`, '/x.tar.gz');
    for (let attempt = 0; attempt < 5; attempt++) {
      expect((await transport.stat(location)).size).toBe(BODY.length);
      expect(await slowDigest((await transport.read(location)) as AsyncIterable<Buffer>)).toBe(DIGEST);
    }
  });
});
