/**
 * A plain tar's encoder and decoder pass large buffers through with little else allocated, so
 * they ask V8 for a young collection every YOUNG_BUFFER_GARBAGE_INTERVAL_BYTES (see the kit's
 * bufferGarbageCollector); a tar behind a decompressor is left to V8.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGunzip, gzipSync } from 'node:zlib';
import { YOUNG_BUFFER_GARBAGE_INTERVAL_BYTES } from '@bentoport/plugin-kit';
import type { ArchiveEntry } from '@bentoport/spec';
import { describe, expect, it } from 'vitest';
import { decodeTar, encodeTar } from './index.js';

const MIB = 1024 * 1024;
const BODY_MIB = 64;
const EXPECTED = (BODY_MIB * MIB) / YOUNG_BUFFER_GARBAGE_INTERVAL_BYTES;

/**
 * Counts the young collections made by gc() (V8 marks them FORCED; its own are not counted) while
 * `work` runs, and for a bounded while after (reports come on a later turn).
 */
async function forcedYoungCollectionsDuring(work: () => Promise<void>, expected: number): Promise<number> {
  let minors = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = (entry as PerformanceEntry & { detail?: { kind?: number; flags?: number } }).detail;
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR && ((detail.flags ?? 0) & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !== 0) minors++;
    }
  });
  // Reports of collections made before (building the archive) may still be on their way.
  await sleep(100);
  observer.observe({ entryTypes: ['gc'] });
  try {
    await work();
    for (let attempt = 0; attempt < 50 && minors < Math.max(expected, 1); attempt++) await sleep(10);
    return minors;
  } finally {
    observer.disconnect();
  }
}

/** One file of BODY_MIB fresh 1 MiB chunks, as a large file's reads arrive. */
function bigEntry(): ArchiveEntry {
  return {
    path: 'weights.bin',
    type: 'file',
    mode: 0o644,
    mtime: 1735787045,
    size: BODY_MIB * MIB,
    open: () => Readable.from((function* () {
      for (let index = 0; index < BODY_MIB; index++) yield Buffer.allocUnsafe(MIB).fill(index);
    })()),
  };
}

/** The plain tar of {@link bigEntry}, as the chunks encodeTar gave. */
async function plainTar(): Promise<Buffer[]> {
  const archive: Buffer[] = [];
  for await (const chunk of encodeTar([bigEntry()])) archive.push(chunk);
  return archive;
}

/** Bytes of every body `entries` hold, each read through `open()`. */
async function bodyBytes(entries: AsyncIterable<ArchiveEntry>): Promise<number> {
  let bytes = 0;
  for await (const entry of entries) {
    for await (const chunk of entry.open?.() ?? []) bytes += (chunk as Buffer).length;
  }
  return bytes;
}

describe('young collections of a plain tar', () => {
  it('encodeTar asks for one every 8 MiB of output', async () => {
    const minors = await forcedYoungCollectionsDuring(async () => {
      let bytes = 0;
      for await (const chunk of encodeTar([bigEntry()])) bytes += chunk.length;
      expect(bytes).toBeGreaterThan(BODY_MIB * MIB);
    }, EXPECTED);
    expect(minors).toBe(EXPECTED);
  });

  it('decodeTar asks for one every 8 MiB of a plain tar read', async () => {
    const archive = await plainTar();
    const minors = await forcedYoungCollectionsDuring(async () => {
      expect(await bodyBytes(decodeTar({ stream: () => Readable.from(archive) }))).toBe(BODY_MIB * MIB);
    }, EXPECTED);
    expect(minors).toBe(EXPECTED);
  });

  it('decodeTar leaves a tar behind a decompressor to V8', async () => {
    const gzipped = gzipSync(Buffer.concat(await plainTar()), { level: 1 });
    const minors = await forcedYoungCollectionsDuring(async () => {
      const entries = decodeTar({ stream: () => Readable.from([gzipped]) }, { format: 'gz', decompress: () => createGunzip() });
      expect(await bodyBytes(entries)).toBe(BODY_MIB * MIB);
    }, 0);
    expect(minors).toBe(0);
  });
});
