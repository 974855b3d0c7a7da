import { isBentoportError, type Location, type Transport } from '@bentoport/spec';
import { failureWithin, startSilentServer, transferOperations, type SilentServer } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ftpTransport } from './ftp-transport.js';
import { urlLocation } from './test-support/locations.js';

/**
 * A server that accepts connections and never sends a byte: every operation must fail on its
 * own timeouts, within seconds, with a one-line coded error naming the location.
 */
describe('ftpTransport against a server that accepts and never answers', () => {
  let silent: SilentServer;
  let transport: Transport;
  let location: Location;
  beforeAll(async () => {
    silent = await startSilentServer();
    transport = ftpTransport({ timeoutMs: 500, retries: 1, retryDelayMs: 10, netrc: false });
    location = urlLocation(`ftp://user:secret@127.0.0.1:${silent.port}/bentos/x.bento`);
  });
  afterAll(() => silent.close());

  for (const [name, operation] of Object.entries(transferOperations(() => transport, () => location))) {
    it(`${name} fails within seconds, naming the location and the timeout`, async () => {
      const error = await failureWithin(operation, 5_000);
      expect(isBentoportError(error, 'ERR_IO')).toBe(true);
      expect((error as Error).message).toMatch(/^\[transport-ftp\] [A-Z]+ ftp:\/\/user:\*\*\*@127\.0\.0\.1:\d+\/bentos\/x\.bento: .* within timeoutMs$/);
    });
  }
});
