import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { bufferGarbageCollector, YOUNG_BUFFER_GARBAGE_INTERVAL_BYTES } from './buffer-garbage.js';

const MIB = 1024 * 1024;

describe('bufferGarbageCollector', () => {
  it('asks for one collection per interval of bytes passed, whatever the chunking', () => {
    let collections = 0;
    const garbage = bufferGarbageCollector({ intervalBytes: 4 * MIB, collect: () => collections++ });
    for (let index = 0; index < 10; index++) garbage.passed(MIB);
    expect(collections).toBe(2);
    garbage.passed(2 * MIB - 1); // 12 MiB - 1 byte
    expect(collections).toBe(2);
    garbage.passed(1);
    expect(collections).toBe(3);
  });

  it('refuses an interval that would collect on every call', () => {
    expect(() => bufferGarbageCollector({ intervalBytes: 0, collect: () => undefined })).toThrow(RangeError);
  });

  it("runs full collections of V8's heap on this thread, one per interval", async () => {
    let majors = 0;
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if ((entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
    });
    observer.observe({ entryTypes: ['gc'] });
    try {
      const garbage = bufferGarbageCollector({ intervalBytes: MIB });
      const before = majors;
      for (let round = 1; round <= 5; round++) {
        const expected = before + round;
        garbage.passed(MIB);
        // Each runs concurrently: a bounded wait for it to be reported before asking again.
        for (let attempt = 0; attempt < 100 && majors < expected; attempt++) await sleep(10);
      }
      expect(majors - before).toBeGreaterThanOrEqual(5);
    } finally {
      observer.disconnect();
    }
  });

  it('asks for a young collection every 8 MiB, or every intervalBytes given', () => {
    let collections = 0;
    const garbage = bufferGarbageCollector({ collection: 'young', collect: () => collections++ });
    for (let mib = 0; mib < 40; mib++) garbage.passed(MIB);
    expect(collections).toBe(40 / (YOUNG_BUFFER_GARBAGE_INTERVAL_BYTES / MIB));
    expect(YOUNG_BUFFER_GARBAGE_INTERVAL_BYTES).toBe(8 * MIB);
    collections = 0;
    const everyTwo = bufferGarbageCollector({ collection: 'young', intervalBytes: 2 * MIB, collect: () => collections++ });
    for (let mib = 0; mib < 40; mib++) everyTwo.passed(MIB);
    expect(collections).toBe(20);
  });

  it("runs young collections of V8's heap at once, one per interval, and no full one", async () => {
    // Only collections made by gc() carry the FORCED flag: V8's own are not counted.
    const forced = { minor: 0, major: 0 };
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const detail = (entry as PerformanceEntry & { detail?: { kind?: number; flags?: number } }).detail;
        if (((detail?.flags ?? 0) & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) === 0) continue;
        if (detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) forced.minor++;
        if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) forced.major++;
      }
    });
    // A full collection the test before asked for may still be on its way.
    await sleep(100);
    observer.observe({ entryTypes: ['gc'] });
    try {
      const garbage = bufferGarbageCollector({ collection: 'young', intervalBytes: MIB });
      for (let round = 0; round < 5; round++) garbage.passed(MIB);
      // Run at once, reported on a later turn: a bounded wait for the reports.
      for (let attempt = 0; attempt < 100 && forced.minor < 5; attempt++) await sleep(10);
      expect(forced).toEqual({ minor: 5, major: 0 });
    } finally {
      observer.disconnect();
    }
  });
});
