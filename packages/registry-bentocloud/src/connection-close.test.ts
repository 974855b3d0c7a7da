import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveNetworkOptions } from '@bentoport/plugin-kit';
import { isBentoportError, type Format } from '@bentoport/spec';
import { startClosingServer, type ClosingServer } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudApi } from './cloud-api.js';
import { createCloudSession } from './cloud-session.js';

const ATTEMPTS = 20;
const BODY = randomBytes(2 * 1024 * 1024 + 5);
const DIGEST = createHash('sha256').update(BODY).digest('hex');

/** Read a little slower than loopback delivers, as the tar decoder writing files does. */
async function slowDigest(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    await sleep(1);
  }
  return hash.digest('hex');
}

/**
 * Storage or a proxy that closes the connection after each response crashed the process under
 * undici 7 (an uncaught `assert(!this.paused)`) whenever the download was read more slowly than it
 * arrived. Both download paths, through the API and from a presigned URL, must deliver every byte.
 */
describe('BentoCloud downloads from a server that closes the connection after each response', () => {
  let server: ClosingServer;
  let api: CloudApi;
  beforeAll(async () => {
    server = await startClosingServer({
      '/bucket/svc.tar': { body: BODY },
      '/api/v1/bento_repositories/svc/bentos/v1/download': { body: BODY },
    });
    // Only the API client of the session is used: no tar is encoded or decoded here.
    const session = createCloudSession({
      sources: { endpoint: server.origin, apiToken: 'secret-token', env: {} },
      network: resolveNetworkOptions('registry-bentocloud', { env: {} }),
      bentomlVersion: '1.4.0',
      partSize: 5 * 1024 * 1024,
      concurrency: 1,
      format: {} as Format,
      tarLength: () => Promise.resolve(0),
    });
    api = session.api();
  });
  afterAll(() => server.close());

  it(`reads a presigned download whole ${ATTEMPTS} times in a row`, async () => {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const download = await api.presignedDownload(`${server.origin}/bucket/svc.tar?X-Amz-Signature=abc`, 'bento "svc:v1"');
      expect(download.length).toBe(BODY.length);
      expect(await slowDigest(download.body)).toBe(DIGEST);
    }
  });

  it(`reads a proxy download through the API whole ${ATTEMPTS} times in a row`, async () => {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      expect(await slowDigest((await api.proxyDownload('bento', 'svc', 'v1')).body)).toBe(DIGEST);
    }
  });

  it('fails a download cut mid-body with a coded one-line error', async () => {
    const cut = await startClosingServer({ '/bucket/cut.tar': { body: BODY, contentLength: false, headers: { 'Content-Length': String(BODY.length * 2) } } });
    try {
      const download = await api.presignedDownload(`${cut.origin}/bucket/cut.tar`, 'bento "svc:v1"');
      const error = await slowDigest(download.body).catch((caught: unknown) => caught);
      expect(isBentoportError(error, 'ERR_IO')).toBe(true);
      expect((error as Error).message).toMatch(/^\[registry-bentocloud\] GET presigned URL of bento "svc:v1" \(127\.0\.0\.1:\d+\): [^\n]+$/);
    } finally {
      await cut.close();
    }
  });
});
