import { connect, createServer, type Server, type Socket } from 'node:net';

/** Which bytes a fault counts and acts on: client to server (`up`), server to client (`down`), or both. */
export type FaultDirection = 'up' | 'down' | 'both';

/**
 * A network fault, armed with {@link FaultProxy.inject}. Byte counts are counted from the moment
 * the fault is armed, over every connection, in `direction` (default `both`).
 * - `reset`: forward exactly `afterBytes` more bytes, then reset both sides (TCP RST), as when a
 *   network path dies.
 * - `truncate`: forward exactly `afterBytes` more bytes, end the receiving side cleanly (FIN, so
 *   nothing is lost in kernel buffers) and destroy the sending side: a peer that closes early.
 * - `stall`: after `afterBytes`, stop forwarding in both directions but keep every socket open (a
 *   wedged middlebox); bytes are held, and delivered again after `resumeAfterMs` when given.
 * - `trickle`: after `afterBytes` (default 0), forward at most `bytesPerSecond` in each direction.
 * - `restart`: after `afterBytes`, close every connection and refuse new ones (the port is
 *   closed, so clients get ECONNREFUSED) for `refuseForMs`, then accept again: a server restart.
 */
export type ProxyFault =
  | { kind: 'reset' | 'truncate'; afterBytes: number; direction?: FaultDirection; onFault?: () => void | Promise<void> }
  | { kind: 'stall'; afterBytes: number; direction?: FaultDirection; resumeAfterMs?: number; onFault?: () => void | Promise<void> }
  | { kind: 'trickle'; bytesPerSecond: number; afterBytes?: number; direction?: FaultDirection; onFault?: () => void | Promise<void> }
  | { kind: 'restart'; afterBytes: number; refuseForMs: number; direction?: FaultDirection; onFault?: () => void | Promise<void> };

export interface FaultProxyOptions {
  /** Where connections are forwarded. */
  targetPort: number;
  /** @default '127.0.0.1' */
  targetHost?: string;
}

/**
 * A TCP forwarder for fault tests: it counts the bytes it forwards (each direction, every
 * connection) and, once armed with {@link inject}, applies one {@link ProxyFault} at the byte
 * that takes the count past the fault's threshold.
 */
export interface FaultProxy {
  readonly port: number;
  /** Bytes forwarded from clients to the server since the last `reset`. */
  readonly bytesUp: number;
  /** Bytes forwarded from the server to clients since the last `reset`. */
  readonly bytesDown: number;
  /** Both directions together. */
  readonly bytes: number;
  /** Connections accepted since the last `reset`. */
  readonly connections: number;
  /** Connections open now. */
  readonly open: number;
  /** Faults that took effect since the last `reset`. */
  readonly faults: number;
  /** Arm one fault; replaces one armed before that has not taken effect yet. */
  inject(fault: ProxyFault): void;
  /** Disarm a pending fault and end a stall or a trickle in progress (held bytes are delivered). */
  clear(): void;
  /** Resolve once `bytes` (both directions) reaches `count` since the last `reset`. */
  whenBytes(count: number): Promise<void>;
  /** Close every connection now and refuse new ones for `refuseForMs`. */
  restart(refuseForMs: number): Promise<void>;
  /** Resolve once the proxy accepts connections (at once unless a restart is refusing them). */
  ready(): Promise<void>;
  /** Zero the counters, disarm a pending fault and end a stall or trickle. */
  reset(): void;
  close(): Promise<void>;
}

type Armed = ProxyFault & { remaining: number };

interface Pipe {
  from: Socket;
  to: Socket;
  direction: 'up' | 'down';
  queue: Buffer[];
  flushing: boolean;
}

const TRICKLE_TICK_MS = 100;

/**
 * Start a {@link FaultProxy} on a free port of 127.0.0.1.
 * @example
 * const proxy = await startFaultProxy({ targetPort: sshdPort });
 * proxy.inject({ kind: 'reset', afterBytes: 64 * 1024, direction: 'up' });
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const targetHost = options.targetHost ?? '127.0.0.1';
  let up = 0;
  let down = 0;
  let connections = 0;
  let faults = 0;
  let armed: Armed | undefined;
  let stalled = false;
  let trickle: { bytesPerSecond: number; direction: FaultDirection } | undefined;
  let resumeTimer: NodeJS.Timeout | undefined;
  let closed = false;
  const waiters: { count: number; resolve: () => void }[] = [];
  const sockets = new Set<Socket>();
  const pipes = new Set<Pipe>();

  const settleWaiters = (): void => {
    for (const waiter of [...waiters]) {
      if (up + down >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  const count = (direction: 'up' | 'down', length: number): void => {
    if (direction === 'up') up += length;
    else down += length;
    settleWaiters();
  };
  const track = (socket: Socket): Socket => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // The 'close' that follows propagates the failure to the other side.
    socket.on('error', () => {});
    return socket;
  };
  const applies = (fault: { direction?: FaultDirection }, direction: 'up' | 'down'): boolean =>
    (fault.direction ?? 'both') === 'both' || fault.direction === direction;

  /** Deliver queued bytes of a pipe, at the trickle rate when one is active. */
  const flush = (pipe: Pipe): void => {
    if (pipe.flushing) return;
    pipe.flushing = true;
    const step = (): void => {
      if (stalled || pipe.to.destroyed) {
        pipe.flushing = false;
        return;
      }
      const rate = trickle !== undefined && applies(trickle, pipe.direction) ? trickle.bytesPerSecond : undefined;
      if (rate === undefined) {
        while (pipe.queue.length > 0) {
          const chunk = pipe.queue.shift() as Buffer;
          count(pipe.direction, chunk.length);
          pipe.to.write(chunk);
        }
        pipe.flushing = false;
        if (!pipe.from.destroyed) pipe.from.resume();
        return;
      }
      let budget = Math.max(1, Math.floor((rate * TRICKLE_TICK_MS) / 1000));
      while (budget > 0 && pipe.queue.length > 0) {
        const chunk = pipe.queue[0] as Buffer;
        const slice = chunk.subarray(0, budget);
        if (slice.length === chunk.length) pipe.queue.shift();
        else pipe.queue[0] = chunk.subarray(slice.length);
        budget -= slice.length;
        count(pipe.direction, slice.length);
        pipe.to.write(slice);
      }
      if (pipe.queue.length === 0) {
        pipe.flushing = false;
        if (!pipe.from.destroyed) pipe.from.resume();
        return;
      }
      setTimeout(step, TRICKLE_TICK_MS).unref();
    };
    step();
  };

  const startStall = (resumeAfterMs: number | undefined): void => {
    stalled = true;
    for (const pipe of pipes) pipe.from.pause();
    if (resumeAfterMs !== undefined) {
      resumeTimer = setTimeout(() => endStall(), resumeAfterMs);
      resumeTimer.unref();
    }
  };
  const endStall = (): void => {
    clearTimeout(resumeTimer);
    resumeTimer = undefined;
    if (!stalled) return;
    stalled = false;
    for (const pipe of pipes) flush(pipe);
  };

  let server: Server;
  let port = 0;
  const listen = (onPort: number): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      server = createServer(accept);
      server.once('error', reject);
      server.listen(onPort, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
  const dropAll = (): void => {
    for (const socket of sockets) socket.resetAndDestroy();
  };
  let restarting: Promise<void> = Promise.resolve();
  const restart = (refuseForMs: number): Promise<void> => (restarting = refuse(refuseForMs));
  const refuse = async (refuseForMs: number): Promise<void> => {
    const closing = new Promise((resolve) => server.close(resolve));
    dropAll();
    await closing;
    await new Promise((resolve) => setTimeout(resolve, refuseForMs));
    if (!closed) await listen(port);
  };

  /** The chunk (or the part of it) that an armed fault lets through, applying the fault when it is reached. */
  const throughFault = (
    chunk: Buffer,
    direction: 'up' | 'down',
    ends: { client: Socket; upstream: Socket; from: Socket; to: Socket; markSevered: () => void; markDead: () => void },
  ): Buffer | undefined => {
    const { client, upstream, from, to, markSevered, markDead } = ends;
    const fault = armed;
    if (fault === undefined || !applies(fault, direction)) return chunk;
    if (chunk.length < fault.remaining) {
      fault.remaining -= chunk.length;
      return chunk;
    }
    const keep = chunk.subarray(0, fault.remaining);
    const rest = chunk.subarray(fault.remaining);
    armed = undefined;
    faults++;
    void fault.onFault?.();
    switch (fault.kind) {
      case 'reset': {
        count(direction, keep.length);
        markDead();
        client.pause();
        upstream.pause();
        // Reset a moment after the kept bytes reached the kernel: reset at once, the peer
        // sometimes sees a clean FIN instead (and a reset that overtakes them would drop them).
        const resetBoth = (): void => {
          client.resetAndDestroy();
          upstream.resetAndDestroy();
        };
        if (keep.length === 0) resetBoth();
        else to.write(keep, () => setTimeout(resetBoth, 20));
        return undefined;
      }
      case 'truncate':
        count(direction, keep.length);
        markSevered();
        from.destroy();
        to.end(keep);
        return undefined;
      case 'stall':
        count(direction, keep.length);
        to.write(keep);
        startStall(fault.resumeAfterMs);
        return rest;
      case 'trickle':
        count(direction, keep.length);
        to.write(keep);
        trickle = { bytesPerSecond: fault.bytesPerSecond, direction: fault.direction ?? 'both' };
        return rest;
      case 'restart':
        count(direction, keep.length);
        to.write(keep);
        void restart(fault.refuseForMs);
        return undefined;
    }
  };

  function accept(client: Socket): void {
    connections++;
    track(client);
    const upstream = track(connect(options.targetPort, targetHost));
    /** Set when a clean `truncate` closes the sending side: the receiving side must not be destroyed. */
    let severed = false;
    /** Set when a reset is under way: nothing more crosses this connection. */
    let dead = false;
    const forward = (from: Socket, to: Socket, direction: 'up' | 'down'): void => {
      const pipe: Pipe = { from, to, direction, queue: [], flushing: false };
      pipes.add(pipe);
      if (stalled) from.pause();
      from.on('data', (chunk: Buffer) => {
        if (dead) return;
        const passed = throughFault(chunk, direction, { client, upstream, from, to, markSevered: () => (severed = true), markDead: () => (dead = true) });
        if (passed === undefined || passed.length === 0) return;
        const throttled = trickle !== undefined && applies(trickle, direction);
        if (stalled || throttled || pipe.queue.length > 0) {
          pipe.queue.push(passed);
          from.pause();
          flush(pipe);
          return;
        }
        count(direction, passed.length);
        if (!to.write(passed)) from.pause();
      });
      to.on('drain', () => {
        if (!stalled && pipe.queue.length === 0) from.resume();
      });
      from.on('end', () => {
        // Deliver what is held before passing the end on (not while stalled: the end waits too).
        const finish = (): void => {
          if (pipe.queue.length === 0 && !stalled) to.end();
          else setTimeout(finish, 20).unref();
        };
        finish();
      });
      from.on('close', () => {
        pipes.delete(pipe);
        if (!severed && pipe.queue.length === 0) to.destroy();
      });
    };
    forward(client, upstream, 'up');
    forward(upstream, client, 'down');
  }

  port = await listen(0);

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
    get open() {
      return sockets.size;
    },
    get faults() {
      return faults;
    },
    inject(fault) {
      armed = { ...fault, remaining: fault.afterBytes ?? 0 } as Armed;
    },
    clear() {
      armed = undefined;
      trickle = undefined;
      endStall();
      for (const pipe of pipes) flush(pipe);
    },
    whenBytes(threshold) {
      if (up + down >= threshold) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count: threshold, resolve }));
    },
    restart,
    ready: () => restarting,
    reset() {
      up = 0;
      down = 0;
      connections = 0;
      faults = 0;
      armed = undefined;
      trickle = undefined;
      endStall();
    },
    async close() {
      closed = true;
      clearTimeout(resumeTimer);
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
