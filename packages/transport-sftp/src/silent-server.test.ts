import { createServer, type AddressInfo, type Socket } from 'node:net';
import { isBentoportError, type Location } from '@bentoport/spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sftpTransport } from './sftp-transport.js';
import { urlLocation } from './test-support/locations.js';

/**
 * A server that accepts connections and never sends a byte (a wedged daemon, a firewall that
 * swallows packets after the handshake). Every operation must fail on its own, within the
 * timeouts, with a coded one-line error naming the URL.
 */
describe('sftpTransport against a server that accepts and never answers', () => {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => sockets.add(socket.on('error', () => {})));
  const transport = sftpTransport({ timeoutMs: 500, retries: 1, retryDelayMs: 10, netrc: false, knownHosts: false, agent: false, privateKeyPath: [] });
  let location: Location;

  beforeAll(async () => {
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    location = urlLocation(`sftp://user:secret@127.0.0.1:${(silent.address() as AddressInfo).port}/bentos/x.bento`);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  const operations: Record<string, () => Promise<unknown>> = {
    stat: () => transport.stat(location),
    read: async () => (await transport.read(location)).toArray(),
    write: async () => {
      const writer = await transport.write(location);
      writer.stream.end(Buffer.from('bento'));
      await writer.commit();
    },
  };
  for (const [name, operation] of Object.entries(operations)) {
    it(`${name} rejects within a few timeouts, naming the URL`, async () => {
      const started = Date.now();
      const error = await operation().then(() => undefined, (caught: unknown) => caught);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(isBentoportError(error, 'ERR_IO')).toBe(true);
      expect((error as Error).message).toMatch(new RegExp(`^\\[transport-sftp\\] \\w+ sftp://user:\\*\\*\\*@127\\.0\\.0\\.1:\\d+/bentos/x\\.bento: .*time`, 'i'));
      expect((error as Error).message).not.toContain('\n');
    }, 10_000);
  }
});
