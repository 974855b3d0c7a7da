/**
 * What a user sees of a push and a pull of a bento with several models: one bar across every
 * item, labelled with the item moving, its total known from the start of a push, never more done
 * than total, and a line per retry. Runs the built CLI (the root test script builds first) and
 * core in-process, against CNCF distribution behind a proxy that cuts a PATCH on cue.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createBentoport, type ProgressEvent } from '@bentoport/core';
import { makeScratchDir, removeScratchDirs, writeSampleBento } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ociRegistry } from './index.js';
import { startFaultProxy, type FaultProxy } from './test-support/fault-proxy.js';

const run = promisify(execFile);
const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../apps/cli/dist/cli.js');
const servers = inject('oci');
const ready = servers.skip === undefined && existsSync(cli);
const MODEL_BYTES = 1024 * 1024;

type BytesEvent = Extract<ProgressEvent, { type: 'bytes' }>;

let proxy: FaultProxy;
let counter = 0;
beforeAll(async () => {
  if (ready) proxy = await startFaultProxy(servers.openPort);
});
afterAll(async () => {
  await proxy?.close();
  await removeScratchDirs();
});

const freshRepository = () => `progress${process.pid}x${++counter}`;

async function bentoport(home: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const scratch = await makeScratchDir('oci-progress-env');
  return run(process.execPath, [cli, '--home', home, ...args], {
    env: { ...process.env, BENTOPORT_REGISTRY: '', XDG_CONFIG_HOME: scratch, XDG_CACHE_HOME: scratch, DOCKER_CONFIG: scratch, HTTP_PROXY: '', HTTPS_PROXY: '', NO_COLOR: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
}

const jsonEvents = (stderr: string) =>
  stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as ProgressEvent);

/** Done never goes back, never passes the total, and the total never changes once known. */
function expectOneHonestBar(bytes: BytesEvent[]): void {
  expect(bytes.length).toBeGreaterThan(0);
  let previous = 0;
  for (const event of bytes) {
    expect(event.bytesDone).toBeGreaterThanOrEqual(previous);
    if (event.bytesTotal !== undefined) expect(event.bytesDone).toBeLessThanOrEqual(event.bytesTotal);
    previous = event.bytesDone;
  }
}

describe.skipIf(!ready)('progress of a multi-model push and pull', () => {
  it('push: one bar over every model and the bento, labelled, its total the store size from the first event', async () => {
    const home = await makeScratchDir('oci-progress-src');
    const sample = await writeSampleBento(home, { name: 'bars', models: 3, weightsBytes: MODEL_BYTES });
    const registry = `oci://127.0.0.1:${proxy.port}/${freshRepository()}`;
    const { stderr } = await bentoport(home, '--progress', 'json', 'push', 'bars:latest', '--registry', registry);
    const bytes = jsonEvents(stderr).filter((event): event is BytesEvent => event.type === 'bytes');
    expectOneHonestBar(bytes);
    const totals = new Set(bytes.map((event) => event.bytesTotal));
    expect(totals.size).toBe(1);
    const total = bytes[0]?.bytesTotal as number;
    expect(total).toBeGreaterThan(3 * MODEL_BYTES);
    expect(bytes.at(-1)?.bytesDone).toBe(total);
    const labels = [...new Set(bytes.map((event) => event.item))];
    expect(labels).toEqual([...sample.models.map((model) => `model ${model.tag}`), `bento ${sample.bentoTag}`]);
  });

  it('pull: one bar over the bento and its models, labelled, its total fixed once the models are known, never more done than total', async () => {
    const home = await makeScratchDir('oci-progress-pull-src');
    const sample = await writeSampleBento(home, { name: 'pulled', models: 2, weightsBytes: MODEL_BYTES });
    const registry = `oci://127.0.0.1:${proxy.port}/${freshRepository()}`;
    await bentoport(home, 'push', 'pulled:latest', '--registry', registry);
    const target = await makeScratchDir('oci-progress-pull-dst');
    const { stderr } = await bentoport(target, '--progress', 'json', 'pull', sample.bentoTag, '--registry', registry);
    const bytes = jsonEvents(stderr).filter((event): event is BytesEvent => event.type === 'bytes');
    expectOneHonestBar(bytes);
    expect([...new Set(bytes.map((event) => event.item))].sort()).toEqual([`bento ${sample.bentoTag}`, ...sample.models.map((model) => `model ${model.tag}`)].sort());
    expect(bytes.at(-1)?.bytesDone).toBe(bytes.at(-1)?.bytesTotal);
    // The total is known once the bento says which models follow (the registry tells their
    // sizes), and then fixed: no 100% after the small bento, falling back when the models start.
    expect(bytes.filter((event) => event.item?.startsWith('bento ')).every((event) => event.bytesTotal === undefined)).toBe(true);
    expect(new Set(bytes.filter((event) => event.bytesTotal !== undefined).map((event) => event.bytesTotal)).size).toBe(1);
  });

  it('a PATCH cut mid-body is retried with a retry event, and the resent bytes are not counted twice', async () => {
    const home = await makeScratchDir('oci-progress-cut');
    await writeSampleBento(home, { name: 'cutbar', models: [{ name: 'cutbar-model', version: 'v1', weightsBytes: 2 * MODEL_BYTES }] });
    const cache = await makeScratchDir('oci-progress-cache');
    const registry = ociRegistry({ url: `oci://127.0.0.1:${proxy.port}/${freshRepository()}`, cacheDirectory: cache, dockerConfig: false, env: {}, chunkSize: 256 * 1024, retryDelayMs: 1 });
    const events: ProgressEvent[] = [];
    proxy.setFault({ occurrence: 3, bodyBytes: 5000 });
    await createBentoport({ home, registries: [registry], onProgress: (event) => events.push(event) }).push('cutbar:latest');
    expect(proxy.fired()).toBe(true);
    proxy.setFault(undefined);
    const retries = events.filter((event) => event.type === 'warning' && event.retry !== undefined);
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ operation: 'push', retry: { attempt: 2, attempts: 4 } });
    expect((retries[0] as { message: string }).message).toMatch(/^retrying upload of a .* blob \(attempt 2\/4, next in \d+(\.\d)? s\): /);
    expectOneHonestBar(events.filter((event): event is BytesEvent => event.type === 'bytes'));
  });

  it('shows a bar with the item, percent, sizes, rate and ETA on --progress bar', async () => {
    const home = await makeScratchDir('oci-progress-bar');
    await writeSampleBento(home, { name: 'shown', models: 3, weightsBytes: 24 * MODEL_BYTES });
    const registry = `oci://127.0.0.1:${proxy.port}/${freshRepository()}`;
    const { stderr } = await bentoport(home, '--progress', 'bar', 'push', 'shown:latest', '--registry', registry);
    const frames = stderr.split('\r\u001b[2K').filter((frame) => frame.startsWith('push '));
    expect(frames.length).toBeGreaterThan(0);
    // The line of the closing note: one frame mid-way, as a user would see it.
    const timed = frames.filter((frame) => frame.includes('ETA'));
    console.log(`[registry-oci] progress frame: ${JSON.stringify(timed[Math.floor(timed.length / 2)] ?? frames.at(-1))}`);
    for (const frame of frames) {
      expect(frame.length).toBeLessThan(80);
      expect(frame).toMatch(/^push (model|bento) \S+ [█░]{10,24} +\d+% {2}[\d.]+\/[\d.]+ \w+/);
    }
    expect(frames.some((frame) => /MB\/s {2}ETA \d+:\d\d/.test(frame))).toBe(true);
  });
});
