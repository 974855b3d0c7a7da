import { startFaultProxy } from './fault-proxy.js';

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
 * A TCP forwarder for cut tests (see {@link startFaultProxy} for every other fault): counts the bytes it forwards (each direction, every
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

/**
 * Start a {@link CountingProxy}: a {@link FaultProxy} that knows only the cut (`reset` or
 * `truncate`), kept for the tests written against it.
 */
export async function startCountingProxy(options: CountingProxyOptions): Promise<CountingProxy> {
  const proxy = await startFaultProxy(options);
  return {
    port: proxy.port,
    get bytesUp() {
      return proxy.bytesUp;
    },
    get bytesDown() {
      return proxy.bytesDown;
    },
    get bytes() {
      return proxy.bytes;
    },
    get connections() {
      return proxy.connections;
    },
    get cuts() {
      return proxy.faults;
    },
    cutAfter(bytes, cutOptions = {}) {
      proxy.inject({ kind: cutOptions.how === 'end' ? 'truncate' : 'reset', afterBytes: bytes, direction: cutOptions.direction ?? 'both', onFault: cutOptions.onCut });
    },
    reset: () => proxy.reset(),
    close: () => proxy.close(),
  };
}
