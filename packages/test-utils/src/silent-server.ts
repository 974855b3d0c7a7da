import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { Writable } from 'node:stream';

/**
 * A TCP server on 127.0.0.1 that accepts every connection and never sends a byte: a wedged
 * daemon, or a firewall that swallows a connection after its handshake. A network transport
 * pointed at it must fail each operation on its own timeouts, never wait forever.
 */
export interface SilentServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The part of a transport (the spec's `Transport`) that {@link transferOperations} drives. */
export interface TransferringTransport<L> {
  stat(location: L): Promise<unknown>;
  read(location: L): Promise<AsyncIterable<unknown>>;
  write(location: L): Promise<{ stream: Writable; commit(): Promise<void> }>;
}

/** `stat`, `read` (to the end) and `write` (open, a few bytes, commit) of one location, each a whole operation. */
export function transferOperations<L>(transport: () => TransferringTransport<L>, location: () => L): Record<'stat' | 'read' | 'write', () => Promise<unknown>> {
  return {
    stat: () => transport().stat(location()),
    read: async () => {
      for await (const _chunk of await transport().read(location()));
    },
    write: async () => {
      const writer = await transport().write(location());
      writer.stream.end(Buffer.from('bento'));
      await writer.commit();
    },
  };
}

/**
 * Run `operation`, expecting it to fail within `withinMs`: resolves with its error; rejects when
 * it succeeded or took longer (it is not waited for past the bound).
 */
export async function failureWithin(operation: () => Promise<unknown>, withinMs: number): Promise<unknown> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${withinMs} ms`)), withinMs);
  });
  try {
    const outcome = await Promise.race([operation().then(() => ({ failed: false as const }), (error: unknown) => ({ failed: true as const, error })), late]);
    if (!outcome.failed) throw new Error(`succeeded after ${Date.now() - started} ms, expected a failure`);
    return outcome.error;
  } finally {
    clearTimeout(timer);
  }
}
