import { isBentoportError, type Location, type Transport } from '@bentoport/spec';
import { failureWithin, startSilentServer, transferOperations, type SilentServer } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Location, TEST_CREDENTIALS } from './moto-fixtures.js';
import { s3Transport } from './s3-transport.js';

/**
 * A server that accepts connections and never sends a byte: every operation must fail on its
 * own timeouts, within seconds, with a one-line coded error naming the location.
 */
describe('s3Transport against a server that accepts and never answers', () => {
  let silent: SilentServer;
  let transport: Transport;
  let location: Location;
  beforeAll(async () => {
    silent = await startSilentServer();
    const endpoint = `http://127.0.0.1:${silent.port}`;
    transport = s3Transport({ endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS, proxy: false, timeoutMs: 500, retries: 1, retryDelayMs: 10 });
    location = s3Location('bentos', 'x.bento');
  });
  afterAll(() => silent.close());

  for (const [name, operation] of Object.entries(transferOperations(() => transport, () => location))) {
    it(`${name} fails within seconds, naming the location and the timeout`, async () => {
      const error = await failureWithin(operation, 5_000);
      expect(isBentoportError(error, 'ERR_IO')).toBe(true);
      expect((error as Error).message).toMatch(/^\[transport-s3\] [A-Z]+ s3:\/\/bentos\/x\.bento: no byte from the server within 500 ms \(timeoutMs\)$/);
    });
  }
});
