import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveNetworkOptions } from '@bentoport/plugin-kit';
import { startClosingServer, type ClosingServer } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistryClient, type RegistryClient } from './registry-client.js';

const ATTEMPTS = 20;
const BLOB = randomBytes(2 * 1024 * 1024 + 3);
const DIGEST = createHash('sha256').update(BLOB).digest('hex');
const BLOB_PATH = `/v2/team/svc/blobs/sha256:${DIGEST}`;

/** Read a little slower than loopback delivers, as the tar decoder writing files does. */
async function slowDigest(body: AsyncIterable<Uint8Array> | null): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of body ?? []) {
    hash.update(chunk);
    await sleep(1);
  }
  return hash.digest('hex');
}

/** A registry front that redirects blob downloads to storage, as registries on S3 or GCS do; it records each request's headers. */
async function redirectingRegistry(storage: string, seen: IncomingHttpHeaders[]): Promise<Server> {
  const server = createServer((request, response) => {
    seen.push(request.headers);
    response.writeHead(307, { location: `${storage}/blob` }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function clientFor(host: string, credentials?: { username: string; password: string }): RegistryClient {
  return createRegistryClient({
    host,
    scheme: 'http',
    network: resolveNetworkOptions('registry-oci', { env: {} }),
    credentials: () => Promise.resolve(credentials),
    userAgent: 'bentoport-test',
  });
}

/**
 * Storage (or a registry, or a proxy) that closes the connection after each response crashed the
 * process under undici 7 (an uncaught `assert(!this.paused)`) whenever a layer was read more
 * slowly than it arrived. Every pull must get the whole blob.
 */
describe('registry client against servers that close the connection after each response', () => {
  let storage: ClosingServer;
  let front: Server;
  const seen: IncomingHttpHeaders[] = [];
  beforeAll(async () => {
    storage = await startClosingServer({ [BLOB_PATH]: { body: BLOB }, '/blob': { body: BLOB } });
    front = await redirectingRegistry(storage.origin, seen);
  });
  afterAll(async () => {
    front.closeAllConnections();
    await new Promise((resolve) => front.close(resolve));
    await storage.close();
  });

  it(`reads a blob whole ${ATTEMPTS} times in a row`, async () => {
    const client = clientFor(`127.0.0.1:${storage.port}`);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const response = await client.request('GET', BLOB_PATH, { scope: 'repository:team/svc:pull' });
      expect(response.status).toBe(200);
      expect(await slowDigest(response.body)).toBe(DIGEST);
    }
  });

  it(`follows a blob redirect to storage ${ATTEMPTS} times, without sending the registry's credentials there`, async () => {
    const client = clientFor(`127.0.0.1:${(front.address() as AddressInfo).port}`);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const response = await client.request('GET', BLOB_PATH, { scope: 'repository:team/svc:pull', headers: { authorization: 'Bearer registry-token' } });
      expect(response.status).toBe(200);
      expect(await slowDigest(response.body)).toBe(DIGEST);
    }
    expect(seen.every((headers) => headers.authorization === 'Bearer registry-token')).toBe(true);
    const atStorage = storage.requests.filter((request) => request.path === '/blob');
    expect(atStorage).toHaveLength(ATTEMPTS);
    expect(atStorage.every((request) => request.headers.authorization === undefined)).toBe(true);
  });
});
