import { connect, createServer, type Socket } from 'node:net';

export interface CountingProxyOptions {
  /** Where connections are forwarded. */
  targetPort: number;
  /** @default '127.0.0.1' */
  targetHost?: string;
}

export interface CutOptions {
  /** Which bytes count towards the cut: server to client (`down`), client to server (`up`), or both. @default 'both' */
  direction?: 'up' | 'down' | 'both';
  /**
   * `reset`: reset both sides (TCP RST), as when a network path dies. `end`: deliver exactly the
   * bytes up to the count, end the receiving side cleanly (so nothing is lost in kernel buffers)
   * and destroy the sending side.
   * @default 'reset'
   */
  how?: 'reset' | 'end';
  /** Runs when the cut happens (replace the object on the server, …). */
  onCut?: () => void | Promise<void>;
}

/**
 * A TCP forwarder for fault tests: counts the bytes it forwards (each direction, every
 * connection) and, once armed with `cutAfter(n)`, cuts the connection that carries the byte
 * taking the count (since arming) past n.
 */
export interface CountingProxy {
  readonly port: number;
  /** Bytes forwarded from clients to the server since the last `reset`. */
  readonly bytesUp: number;
  /** Bytes forwarded from the server to clients since the last `reset`. */
  readonly bytesDown: number;
  /** Both directions together. */
  readonly bytes: number;
  /** Connections accepted since the last `reset`. */
  readonly connections: number;
  /** Cuts made since the last `reset`. */
  readonly cuts: number;
  /** Arm one cut; replaces a cut armed before and not made yet. */
  cutAfter(bytes: number, options?: CutOptions): void;
  /** Zero the counters and disarm a pending cut. */
  reset(): void;
  close(): Promise<void>;
}

export async function startCountingProxy(options: CountingProxyOptions): Promise<CountingProxy> {
  const targetHost = options.targetHost ?? '127.0.0.1';
  let up = 0;
  let down = 0;
  let connections = 0;
  let cuts = 0;
  let armed: { direction: 'up' | 'down' | 'both'; remaining: number; how: 'reset' | 'end'; onCut: CutOptions['onCut'] } | undefined;
  const sockets = new Set<Socket>();
  const track = (socket: Socket): Socket => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // The 'close' that follows propagates the failure to the other side.
    socket.on('error', () => {});
    return socket;
  };

  const server = createServer((client) => {
    connections++;
    track(client);
    const upstream = track(connect(options.targetPort, targetHost));
    /** Set when a clean `end` cut closes the sending side: the receiving side must not be destroyed. */
    let severed = false;
    const forward = (from: Socket, to: Socket, direction: 'up' | 'down'): void => {
      from.on('data', (chunk: Buffer) => {
        const cut = armed;
        if (cut !== undefined && (cut.direction === 'both' || cut.direction === direction) && chunk.length >= cut.remaining) {
          const keep = chunk.subarray(0, cut.remaining);
          armed = undefined;
          cuts++;
          if (direction === 'up') up += keep.length;
          else down += keep.length;
          if (cut.how === 'end') {
            severed = true;
            from.destroy();
            to.end(keep);
          } else {
            to.write(keep);
            client.resetAndDestroy();
            upstream.resetAndDestroy();
          }
          void cut.onCut?.();
          return;
        }
        if (cut !== undefined && (cut.direction === 'both' || cut.direction === direction)) cut.remaining -= chunk.length;
        if (direction === 'up') up += chunk.length;
        else down += chunk.length;
        if (!to.write(chunk)) from.pause();
      });
      to.on('drain', () => from.resume());
      from.on('end', () => to.end());
      from.on('close', () => {
        if (!severed) to.destroy();
      });
    };
    forward(client, upstream, 'up');
    forward(upstream, client, 'down');
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });

  return {
    port,
    get bytesUp() {
      return up;
    },
    get bytesDown() {
      return down;
    },
    get bytes() {
      return up + down;
    },
    get connections() {
      return connections;
    },
    get cuts() {
      return cuts;
    },
    cutAfter(bytes, cutOptions = {}) {
      armed = { direction: cutOptions.direction ?? 'both', remaining: bytes, how: cutOptions.how ?? 'reset', onCut: cutOptions.onCut };
    },
    reset() {
      up = 0;
      down = 0;
      connections = 0;
      cuts = 0;
      armed = undefined;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
