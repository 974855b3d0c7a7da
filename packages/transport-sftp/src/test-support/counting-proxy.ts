import { createServer, connect, type Socket } from 'node:net';

/**
 * A TCP forwarder for fault tests: counts the bytes it forwards (both directions, all
 * connections) and, once armed with `cutAfter(n)`, resets the connection that carries the byte
 * taking the count past n (counted since the last `reset`), on both sides, as when a network
 * path dies.
 */
export interface CountingProxy {
  readonly port: number;
  readonly bytes: number;
  readonly cuts: number;
  cutAfter(bytes: number): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startCountingProxy(targetPort: number): Promise<CountingProxy> {
  let bytes = 0;
  let cuts = 0;
  let cutAt: number | undefined;
  const sockets = new Set<Socket>();
  const track = (socket: Socket): Socket => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    return socket;
  };
  const server = createServer((client) => {
    track(client);
    const upstream = track(connect(targetPort, '127.0.0.1'));
    const forward = (from: Socket, to: Socket): void => {
      from.on('data', (chunk: Buffer) => {
        if (cutAt !== undefined && bytes + chunk.length >= cutAt) {
          const keep = chunk.subarray(0, Math.max(0, cutAt - bytes));
          bytes += keep.length;
          cutAt = undefined;
          cuts++;
          to.write(keep);
          client.resetAndDestroy();
          upstream.resetAndDestroy();
          return;
        }
        bytes += chunk.length;
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
      from.on('end', () => to.end());
      from.on('close', () => to.destroy());
    };
    forward(client, upstream);
    forward(upstream, client);
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
  return {
    port,
    get bytes() {
      return bytes;
    },
    get cuts() {
      return cuts;
    },
    cutAfter(count) {
      cutAt = count;
    },
    reset() {
      bytes = 0;
      cuts = 0;
      cutAt = undefined;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
