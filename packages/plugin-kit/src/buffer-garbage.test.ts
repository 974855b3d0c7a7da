import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { bufferGarbageCollector } from './buffer-garbage.js';

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
});
