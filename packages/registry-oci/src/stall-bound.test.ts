import { createBentoport, type Bentoport, type ProgressEvent } from '@bentoport/core';
import { makeScratchDir, removeScratchDirs, startFaultProxy, writeSampleBento, type FaultProxy, type SampleBento } from '@bentoport/test-utils';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { ociRegistry } from './index.js';
import { startHeldAnswerProxy } from './test-support/held-answer-proxy.js';

const servers = inject('oci');

/** Small limits, so a stall costs seconds; the bound below is computed from them. */
const NETWORK = { timeoutMs: 1_000, connectTimeoutMs: 1_000, retries: 2, retryDelayMs: 10 };

/**
 * The README's worst case for an operation that stops making progress: `retries + 1` attempts,
 * each waiting at most `connectTimeoutMs + timeoutMs`, plus the backoff between them (here
 * `retryDelayMs` doubling from 10 ms), plus a second of slack for a loaded machine.
 */
const BOUND_MS = (NETWORK.retries + 1) * (NETWORK.connectTimeoutMs + NETWORK.timeoutMs) + 100 + 1_000;

let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});
afterAll(removeScratchDirs);

async function setUp(network: Record<string, number> = NETWORK): Promise<{ home: string; sample: SampleBento; bentoport: (home: string) => Bentoport; proxy: FaultProxy }> {
  const faults = await startFaultProxy({ targetPort: servers.openPort });
  proxy = faults;
  const home = await makeScratchDir('oci-stall');
  const sample = await writeSampleBento(home, { name: 'svc', models: 2, weightsBytes: 512 * 1024 });
  const registry = ociRegistry({
    url: `oci://127.0.0.1:${faults.port}/stall${process.pid}x${Math.random().toString(36).slice(2, 8)}`,
    cacheDirectory: false,
    dockerConfig: false,
    env: {},
    chunkSize: 64 * 1024,
    ...network,
  });
  return { home, sample, proxy: faults, bentoport: (store) => createBentoport({ home: store, registries: [registry] }) };
}

/**
 * How long `operation` took to fail, and its error; one still running at `giveUpMs` is stopped
 * through its signal and reported as such, so a missed bound fails as an assertion.
 */
async function failure(operation: (signal: AbortSignal) => Promise<unknown>, giveUpMs = 2 * BOUND_MS): Promise<{ elapsedMs: number; error: Error }> {
  const started = Date.now();
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), giveUpMs);
  try {
    const error = await operation(stop.signal).then(
      () => new Error('succeeded through a stall that never ends'),
      (caught: unknown) => (stop.signal.aborted ? new Error(`still running after ${giveUpMs} ms`) : (caught as Error)),
    );
    return { elapsedMs: Date.now() - started, error };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A connection that stalls for good (every socket kept open, no byte forwarded, new connections
 * accepted and stalled too) must end each operation with one timeout line within the bound the
 * README states, however the retries are layered (per request, per blob, per upload session).
 */
describe.skipIf(servers.skip !== undefined)('registry-oci through a connection that stalls for good', () => {
  it('fails a push stalled mid-upload within (retries + 1) × (connectTimeoutMs + timeoutMs)', async () => {
    const { home, sample, proxy: faults, bentoport } = await setUp();
    faults.inject({ kind: 'stall', afterBytes: 300_000, direction: 'up' });
    const { elapsedMs, error } = await failure((signal) => bentoport(home).push(sample.bentoTag, { signal }));
    expect(faults.faults).toBe(1);
    // Before: the blob's retries each waited for a retried status GET and a new session's POST,
    // (retries + 1) × (retries + 2) silences in all.
    expect(elapsedMs).toBeLessThan(BOUND_MS);
    expect(error.message).toMatch(/^\[registry-oci\] [A-Z]+ \S+: no (response|byte of the response body) within 1000 ms \(timeoutMs\)$/);
  });

  it('fails a pull stalled mid-layer with the kit default timeoutMs (30 s), not one of its own', async () => {
    // Only `retries` is set (a stalled body is not retried anyway): the timeouts are the defaults.
    const { home, sample, proxy: faults, bentoport } = await setUp({ retries: 0 });
    await bentoport(home).push(sample.bentoTag);
    faults.reset();
    faults.inject({ kind: 'stall', afterBytes: 100_000, direction: 'down' });
    // Before: registry-oci's own 300 s default, longer than the soak's 240 s limit for a whole run.
    const defaultBoundMs = 15_000 + 30_000 + 1_000;
    const { elapsedMs, error } = await failure(async (signal) => bentoport(await makeScratchDir('oci-stall-pull')).pull(sample.bentoTag, { signal }), defaultBoundMs);
    expect(faults.faults).toBe(1);
    expect(error.message).toMatch(/^\[registry-oci\] GET \S+: no byte of the response body within 30000 ms \(timeoutMs\)$/);
    expect(elapsedMs).toBeLessThan(defaultBoundMs);
  });
});

describe.skipIf(servers.skip !== undefined)('registry-oci when the closing PUT of a blob outlasts timeoutMs', () => {
  it('asks whether the registry stored the blob before sending it again', async () => {
    // The registry answers the first closing PUT (`?digest=`) only after 3 timeoutMs: it has stored
    // the blob by then, as a registry moving a large blob within its storage does.
    const held = await startHeldAnswerProxy({ upstreamPort: servers.openPort, occurrence: 1, holdMs: 1_500, requestLine: /(?:^|\r\n)PUT \/v2\/\S*\/blobs\/uploads\/\S*digest=\S* HTTP\/1\.1\r\n/g, onAnswer: () => {} });
    try {
      const home = await makeScratchDir('oci-closing');
      const sample = await writeSampleBento(home, { name: 'svc', models: 1, weightsBytes: 512 * 1024 });
      const registry = ociRegistry({ url: `oci://127.0.0.1:${held.port}/closing${process.pid}`, cacheDirectory: false, dockerConfig: false, env: {}, timeoutMs: 500, retries: 2, retryDelayMs: 10 });
      const events: ProgressEvent[] = [];
      await createBentoport({ home, registries: [registry], onProgress: (event) => events.push(event) }).push(sample.bentoTag);
      expect(held.held()).toBe(true);
      const notices = events.flatMap((event) => ('message' in event ? [String(event.message)] : []));
      expect(notices.some((message) => /retrying upload/.test(message))).toBe(true);
      // Before: the session was gone, so the blob was sent again from its first byte.
      expect(notices.filter((message) => /again from its start/.test(message))).toEqual([]);
    } finally {
      await held.close();
    }
  });
});
