import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isBentoportError } from '@bentoport/core';
import { startCountingProxy, startFaultProxy, type CountingProxy } from '@bentoport/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { httpTransport } from './http-transport.js';
import { patternBytes, readAll } from './test-support/helpers.js';
import { httpLocation, uniqueName } from './test-support/locations.js';

const servers = inject('http');
const MiB = 1024 * 1024;

describe.skipIf(servers.skip !== undefined)('whole reads in parallel ranges after stat (nginx behind a counting TCP proxy)', () => {
  const directory = uniqueName('parallel');
  const size = 6 * MiB + 4321;
  const original = patternBytes(size, 3);
  let proxy: CountingProxy;
  const location = (name: string) => httpLocation('http', `127.0.0.1:${proxy.port}`, `/${directory}/${name}`);

  beforeAll(async () => {
    mkdirSync(path.join(servers.davRoot, directory));
    writeFileSync(path.join(servers.davRoot, directory, 'big.bin'), original);
    proxy = await startCountingProxy({ targetPort: servers.davPort });
  });
  afterEach(() => proxy.reset());
  afterAll(() => proxy.close());

  it('fetches several ranges at once and hands on the bytes in order', async () => {
    const transport = httpTransport({ rangeSize: MiB, rangesInFlight: 4 });
    await transport.stat(location('big.bin'));
    const data = await readAll(await transport.read(location('big.bin')));
    expect(data.equals(original)).toBe(true);
    // Keep-alive reuses connections; four ranges in flight need four of them.
    expect(proxy.connections).toBeGreaterThanOrEqual(4);
  });

  it('reads with one GET when rangesInFlight is 1, or without a stat first', async () => {
    const one = httpTransport({ rangeSize: MiB, rangesInFlight: 1 });
    await one.stat(location('big.bin'));
    expect((await readAll(await one.read(location('big.bin')))).equals(original)).toBe(true);
    expect(proxy.connections).toBe(1);
    proxy.reset();
    expect((await readAll(await httpTransport({ rangeSize: MiB }).read(location('big.bin')))).equals(original)).toBe(true);
    expect(proxy.connections).toBe(1);
  });

  it('reads from a near server with one GET by default, and in parallel ranges from a distant one', async () => {
    // Near: nginx on this host answers HEAD in about a millisecond. A loaded machine can take
    // longer now and then, so a few tries are allowed; one of them must be a single GET.
    const connections: number[] = [];
    for (let attempt = 0; attempt < 5 && connections.at(-1) !== 1; attempt++) {
      proxy.reset();
      const near = httpTransport({ rangeSize: MiB });
      await near.stat(location('big.bin'));
      expect((await readAll(await near.read(location('big.bin')))).equals(original)).toBe(true);
      connections.push(proxy.connections);
    }
    expect(connections.at(-1), `connections per try: ${connections.join(', ')}`).toBe(1);
    // Distant: the first answer is held for 50 ms, as a server across an ocean takes.
    const distant = await startFaultProxy({ targetPort: servers.davPort });
    try {
      const far = httpTransport({ rangeSize: MiB });
      const farLocation = httpLocation('http', `127.0.0.1:${distant.port}`, `/${directory}/big.bin`);
      distant.inject({ kind: 'stall', afterBytes: 0, direction: 'down', resumeAfterMs: 50 });
      await far.stat(farLocation);
      distant.reset();
      expect((await readAll(await far.read(farLocation))).equals(original)).toBe(true);
      expect(distant.connections).toBeGreaterThanOrEqual(4);
    } finally {
      await distant.close();
    }
  });

  it('holds at most rangesInFlight ranges while the consumer does not read', async () => {
    const transport = httpTransport({ rangeSize: MiB, rangesInFlight: 2 });
    await transport.stat(location('big.bin'));
    proxy.reset();
    const stream = await transport.read(location('big.bin'));
    stream.pause();
    stream.read(0);
    await sleep(500);
    // Two ranges, plus what the proxy's and the kernel's buffers hold of a third: never the whole file.
    expect(proxy.bytesDown).toBeLessThan(3 * MiB + 512 * 1024);
    const data = await readAll(stream);
    expect(data.equals(original)).toBe(true);
  });

  it('resumes a range cut mid-way, byte-identical', async () => {
    const transport = httpTransport({ rangeSize: MiB, rangesInFlight: 4, retryDelayMs: 20 });
    await transport.stat(location('big.bin'));
    proxy.reset();
    proxy.cutAfter(2 * MiB + 777, { direction: 'down', how: 'end' });
    const data = await readAll(await transport.read(location('big.bin')));
    expect(proxy.cuts).toBe(1);
    expect(data.equals(original)).toBe(true);
  });

  it('refuses a resource replaced between stat and read with ERR_CORRUPT_ARCHIVE, never joining two versions', async () => {
    const file = path.join(servers.davRoot, directory, 'replaced.bin');
    writeFileSync(file, original);
    const transport = httpTransport({ rangeSize: MiB, rangesInFlight: 4 });
    await transport.stat(location('replaced.bin'));
    // A new ETag (size and mtime change): every pinned range now fails its If-Match.
    await sleep(1100);
    writeFileSync(file, patternBytes(size, 4));
    const error = await readAll(await transport.read(location('replaced.bin'))).then(() => undefined, (caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_CORRUPT_ARCHIVE')).toBe(true);
  });

  it('fails with ERR_ABORTED when the signal fires mid-read', async () => {
    const transport = httpTransport({ rangeSize: MiB, rangesInFlight: 2 });
    await transport.stat(location('big.bin'));
    const controller = new AbortController();
    const stream = await transport.read(location('big.bin'), { signal: controller.signal });
    stream.once('data', () => controller.abort());
    const error = await readAll(stream).then(() => undefined, (caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_ABORTED')).toBe(true);
  });
});
