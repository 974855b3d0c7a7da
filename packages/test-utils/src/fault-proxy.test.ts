import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { startRefusingProxy } from './refusing-proxy.js';

const PAYLOAD = Buffer.alloc(20_000, 7);

/** A server that sends PAYLOAD on every connection and counts the bytes clients send it. */
async function startSource(): Promise<{ port: number; received: () => number; server: Server; close: () => Promise<void> }> {
  let received = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    socket.write(PAYLOAD);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received: () => received,
    server,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

interface Outcome {
  bytes: number;
  ended: boolean;
  error?: string;
  socket: Socket;
}

/** Connect through the proxy and collect what arrives; `done` settles when the socket closes. */
function client(port: number): { outcome: Outcome; done: Promise<Outcome>; connected: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  const outcome: Outcome = { bytes: 0, ended: false, socket };
  socket.on('data', (chunk: Buffer) => (outcome.bytes += chunk.length));
  socket.on('end', () => (outcome.ended = true));
  socket.on('error', (error: NodeJS.ErrnoException) => (outcome.error = error.code ?? error.message));
  const done = new Promise<Outcome>((resolve) => socket.on('close', () => resolve(outcome)));
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { outcome, done, connected };
}

describe('fault proxy', () => {
  let source: Awaited<ReturnType<typeof startSource>>;
  let proxy: FaultProxy;
  beforeEach(async () => {
    source = await startSource();
    proxy = await startFaultProxy({ targetPort: source.port });
  });
  afterEach(async () => {
    await proxy.close();
    await source.close();
  });

  it('forwards every byte both ways and counts them', async () => {
    const { outcome, connected } = client(proxy.port);
    await connected;
    outcome.socket.write(Buffer.alloc(1234));
    await proxy.whenBytes(PAYLOAD.length + 1234);
    expect(outcome.bytes).toBeLessThanOrEqual(PAYLOAD.length);
    await sleep(50);
    expect(outcome.bytes).toBe(PAYLOAD.length);
    expect(source.received()).toBe(1234);
    expect([proxy.bytesDown, proxy.bytesUp, proxy.connections]).toEqual([PAYLOAD.length, 1234, 1]);
    outcome.socket.destroy();
  });

  it('reset: delivers exactly N bytes, then both sides see a reset', async () => {
    proxy.inject({ kind: 'reset', afterBytes: 5000, direction: 'down' });
    const { done } = client(proxy.port);
    const outcome = await done;
    expect(outcome.bytes).toBe(5000);
    expect(outcome.error).toBe('ECONNRESET');
    expect(proxy.faults).toBe(1);
  });

  it('truncate: delivers exactly N bytes, then a clean end', async () => {
    proxy.inject({ kind: 'truncate', afterBytes: 7000, direction: 'down' });
    const { done } = client(proxy.port);
    const outcome = await done;
    expect(outcome.bytes).toBe(7000);
    expect(outcome.ended).toBe(true);
    expect(outcome.error).toBeUndefined();
  });

  it('stall: stops forwarding after N bytes with the socket left open, and delivers the rest when cleared', async () => {
    proxy.inject({ kind: 'stall', afterBytes: 3000, direction: 'down' });
    const { outcome, done } = client(proxy.port);
    await sleep(300);
    expect(outcome.bytes).toBe(3000);
    expect(outcome.socket.destroyed).toBe(false);
    expect(proxy.open).toBe(2);
    proxy.clear();
    await sleep(200);
    expect(outcome.bytes).toBe(PAYLOAD.length);
    outcome.socket.destroy();
    await done;
  });

  it('stall with resumeAfterMs resumes on its own', async () => {
    proxy.inject({ kind: 'stall', afterBytes: 1000, resumeAfterMs: 300 });
    const { outcome, done } = client(proxy.port);
    await sleep(150);
    expect(outcome.bytes).toBe(1000);
    await sleep(400);
    expect(outcome.bytes).toBe(PAYLOAD.length);
    outcome.socket.destroy();
    await done;
  });

  it('trickle: limits the rate to about bytesPerSecond', async () => {
    proxy.inject({ kind: 'trickle', bytesPerSecond: 20_000, afterBytes: 0 });
    const started = Date.now();
    const { outcome, done } = client(proxy.port);
    while (outcome.bytes < PAYLOAD.length && Date.now() - started < 5000) await sleep(20);
    const elapsed = Date.now() - started;
    expect(outcome.bytes).toBe(PAYLOAD.length);
    // 20 000 bytes at 20 000 B/s in 100 ms ticks: about 900 ms, never all at once.
    expect(elapsed).toBeGreaterThanOrEqual(700);
    expect(elapsed).toBeLessThan(3000);
    outcome.socket.destroy();
    await done;
  });

  it('restart: drops every connection, refuses new ones for a while, then accepts again', async () => {
    const first = client(proxy.port);
    await first.connected;
    proxy.inject({ kind: 'restart', afterBytes: 100, refuseForMs: 500, direction: 'up' });
    first.outcome.socket.write(Buffer.alloc(500));
    const outcome = await first.done;
    expect(outcome.ended).toBe(false);
    expect(source.received()).toBe(100);
    const refused = client(proxy.port);
    await expect(refused.connected).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await proxy.ready();
    const later = client(proxy.port);
    await later.connected;
    await sleep(100);
    expect(later.outcome.bytes).toBe(PAYLOAD.length);
    later.outcome.socket.destroy();
  });

  it('reset() zeroes the counters and disarms a pending fault', async () => {
    proxy.inject({ kind: 'reset', afterBytes: 10 });
    proxy.reset();
    const { outcome, connected } = client(proxy.port);
    await connected;
    await proxy.whenBytes(PAYLOAD.length);
    await sleep(50);
    expect(outcome.bytes).toBe(PAYLOAD.length);
    expect(proxy.faults).toBe(0);
    outcome.socket.destroy();
  });
});

describe('refusing proxy', () => {
  it('answers CONNECT and plain proxy requests with 403, and records them', async () => {
    const proxy = await startRefusingProxy();
    try {
      for (const line of ['CONNECT 127.0.0.1:9 HTTP/1.1', 'GET http://127.0.0.1:9/x HTTP/1.1']) {
        const socket = connect(proxy.port, '127.0.0.1');
        socket.write(`${line}\r\nHost: 127.0.0.1:9\r\n\r\n`);
        let answer = '';
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
        await new Promise((resolve) => socket.on('close', resolve));
        expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 403 Forbidden');
      }
      expect(proxy.requests).toEqual(['CONNECT 127.0.0.1:9 HTTP/1.1', 'GET http://127.0.0.1:9/x HTTP/1.1']);
    } finally {
      await proxy.close();
    }
  });
});
