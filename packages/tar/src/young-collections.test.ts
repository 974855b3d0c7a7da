/**
 * A plain tar's encoder and decoder pass large buffers through with little else allocated, so
 * they ask V8 for a young collection every YOUNG_BUFFER_GARBAGE_INTERVAL_BYTES (see the kit's
 * bufferGarbageCollector). Without them, 64 MiB of 1 MiB chunks met one or two of V8's own.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { YOUNG_BUFFER_GARBAGE_INTERVAL_BYTES } from '@bentoport/plugin-kit';
import type { ArchiveEntry } from '@bentoport/spec';
import { describe, expect, it } from 'vitest';
import { decodeTar, encodeTar } from './index.js';

const MIB = 1024 * 1024;
const BODY_MIB = 64;
const EXPECTED = (BODY_MIB * MIB) / YOUNG_BUFFER_GARBAGE_INTERVAL_BYTES;

/** Counts V8's young collections while `work` runs, and for a bounded while after (reports come late). */
async function youngCollectionsDuring(work: () => Promise<void>): Promise<number> {
  let minors = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if ((entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minors++;
  });
  observer.observe({ entryTypes: ['gc'] });
  try {
    await work();
    for (let attempt = 0; attempt < 50 && minors < EXPECTED; attempt++) await sleep(10);
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

describe('young collections of a plain tar', () => {
  it('encodeTar asks for one every 8 MiB of output', async () => {
    const minors = await youngCollectionsDuring(async () => {
      let bytes = 0;
      for await (const chunk of encodeTar([bigEntry()])) bytes += chunk.length;
      expect(bytes).toBeGreaterThan(BODY_MIB * MIB);
    });
    expect(minors).toBeGreaterThanOrEqual(EXPECTED);
  });

  it('decodeTar asks for one every 8 MiB of a plain tar read', async () => {
    const archive: Buffer[] = [];
    for await (const chunk of encodeTar([bigEntry()])) archive.push(chunk);
    const minors = await youngCollectionsDuring(async () => {
      let bytes = 0;
      for await (const entry of decodeTar({ stream: () => Readable.from(archive) })) {
        for await (const chunk of entry.open?.() ?? []) bytes += (chunk as Buffer).length;
      }
      expect(bytes).toBe(BODY_MIB * MIB);
    });
    expect(minors).toBeGreaterThanOrEqual(EXPECTED);
  });
});
