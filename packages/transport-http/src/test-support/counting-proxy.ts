import { connect, createServer, type Server, type Socket } from 'node:net';

export interface CountingProxyOptions {
  /** Where connections are forwarded, on 127.0.0.1. */
  targetPort: number;
  /**
   * Cut the first connection once this many bytes went from the server to the client: exactly
   * that many are delivered (the client side is ended cleanly, so nothing is lost in kernel
   * buffers), then both sides are closed.
   */
  cutAfterBytes?: number;
  /** Runs when the cut happens (replace the object on the server, …). */
  onCut?: () => void | Promise<void>;
}

/** A TCP forwarder that counts bytes both ways and can cut a connection mid-transfer. */
export interface CountingProxy {
  readonly port: number;
  /** Bytes forwarded from the server to the client, over every connection. */
  bytesDown(): number;
  /** Bytes forwarded from the client to the server. */
  bytesUp(): number;
  /** Connections accepted. */
  connections(): number;
  /** Whether the cut has happened. */
  cut(): boolean;
  close(): Promise<void>;
}

export async function startCountingProxy(options: CountingProxyOptions): Promise<CountingProxy> {
  let down = 0;
  let up = 0;
  let accepted = 0;
  let didCut = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    accepted++;
    const index = accepted;
    const upstream = connect({ host: '127.0.0.1', port: options.targetPort });
    let delivered = 0;
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      up += chunk.length;
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    client.on('end', () => upstream.end());
    upstream.on('data', (chunk: Buffer) => {
      const limit = options.cutAfterBytes;
      if (index === 1 && limit !== undefined && delivered + chunk.length >= limit) {
        const part = chunk.subarray(0, limit - delivered);
        delivered += part.length;
        down += part.length;
        didCut = true;
        upstream.destroy();
        client.end(part);
        void options.onCut?.();
        return;
      }
      delivered += chunk.length;
      down += chunk.length;
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    bytesDown: () => down,
    bytesUp: () => up,
    connections: () => accepted,
    cut: () => didCut,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
