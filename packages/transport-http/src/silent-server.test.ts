import { isBentoportError, type Location, type Transport } from '@bentoport/spec';
import { failureWithin, startSilentServer, transferOperations, type SilentServer } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpTransport } from './http-transport.js';
import { httpLocation } from './test-support/locations.js';

/**
 * A server that accepts connections and never sends a byte: every operation must fail on its
 * own timeouts, within seconds, with a one-line coded error naming the location.
 * A write first asks the parent collection whether it speaks WebDAV: that OPTIONS is what fails;
 * with `webdav: false` the PUT itself does.
 */
describe('httpTransport against a server that accepts and never answers', () => {
  let silent: SilentServer;
  let transport: Transport;
  let location: Location;
  beforeAll(async () => {
    silent = await startSilentServer();
    transport = httpTransport({ timeoutMs: 500, retries: 1, retryDelayMs: 10, netrc: false });
    location = httpLocation('http', `user:secret@127.0.0.1:${silent.port}`, '/bentos/x.bento');
  });
  afterAll(() => silent.close());

  const plainPut = (): Transport => httpTransport({ timeoutMs: 500, retries: 1, netrc: false, webdav: false });
  const operations = { ...transferOperations(() => transport, () => location), 'write with a plain PUT': transferOperations(plainPut, () => location).write };
  for (const [name, operation] of Object.entries(operations)) {
    it(`${name} fails within seconds, naming the location and the timeout`, async () => {
      const error = await failureWithin(operation, 5_000);
      expect(isBentoportError(error, 'ERR_IO')).toBe(true);
      expect((error as Error).message).toMatch(/^\[transport-http\] [A-Z]+ http:\/\/user:\*\*\*@127\.0\.0\.1:\d+\/bentos\/(x\.bento)?: no response within 500 ms \(timeoutMs\)$/);
    });
  }
});
