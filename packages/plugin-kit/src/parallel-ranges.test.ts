import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { parallelRanges, type ParallelRangesOptions } from './parallel-ranges.js';

const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, index) => (index * 7) % 253));

/** A source whose ranges finish in reverse order of their start (later ranges sooner), in pieces of 300 bytes. */
function source(started: Array<[number, number]>, live: { count: number; most: number }): ParallelRangesOptions['fetchRange'] {
  return async (start, end, onChunk, signal) => {
    started.push([start, end]);
    live.count += 1;
    live.most = Math.max(live.most, live.count);
    try {
      await sleep(Math.max(1, 40 - start / 500));
      for (let offset = start; offset < end; offset += 300) {
        if (signal.aborted) throw new Error('aborted');
        onChunk(bytes.subarray(offset, Math.min(end, offset + 300)));
        await sleep(0);
      }
    } finally {
      live.count -= 1;
    }
  };
}

const failure = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

describe('parallelRanges', () => {
  it('hands on [start, end) in order although ranges finish out of order, with at most rangesInFlight fetching', async () => {
    const started: Array<[number, number]> = [];
    const live = { count: 0, most: 0 };
    const stream = parallelRanges({ start: 123, end: 9_876, rangeSize: 1000, rangesInFlight: 3, fetchRange: source(started, live), failure });
    expect(Buffer.concat(await stream.toArray())).toEqual(bytes.subarray(123, 9_876));
    expect(started[0]).toEqual([123, 1123]);
    expect(started.at(-1)).toEqual([9123, 9876]);
    expect(live.most).toBe(3);
  });

  it('starts no range beyond the window while the consumer does not read', async () => {
    const started: number[] = [];
    // Ranges larger than the stream's own buffer (16 KiB), as in use (MiB): the stream stops asking once that is full.
    const rangeSize = 64 * 1024;
    const stream = parallelRanges({
      start: 0,
      end: 20 * rangeSize,
      rangeSize,
      rangesInFlight: 2,
      fetchRange: async (start, end, onChunk) => {
        started.push(start);
        onChunk(Buffer.alloc(end - start));
      },
      failure,
    });
    stream.pause();
    stream.read(0);
    await sleep(200);
    // The first range is handed on whole (into the stream's buffer) before the third may start.
    expect(started.length).toBeLessThanOrEqual(3);
    stream.destroy();
  });

  it('fails with the coded error of a failed range only when its turn comes, after the bytes before it', async () => {
    const received: Buffer[] = [];
    const stream = parallelRanges({
      start: 0,
      end: 3000,
      rangeSize: 1000,
      rangesInFlight: 3,
      fetchRange: async (start, end, onChunk) => {
        if (start === 2000) throw new Error('reset');
        await sleep(20);
        onChunk(bytes.subarray(start, end));
      },
      failure: (error) => new Error(`coded: ${(error as Error).message}`),
    });
    stream.on('data', (chunk: Buffer) => received.push(chunk));
    const error = await new Promise<Error>((resolve) => stream.once('error', resolve));
    expect(error.message).toBe('coded: reset');
    expect(Buffer.concat(received)).toEqual(bytes.subarray(0, 2000));
  });

  it('passes every chunk to onDeliver in order and lets beforeEnd fail the end', async () => {
    let seen = 0;
    const stream = parallelRanges({
      start: 0,
      end: 2500,
      rangeSize: 1000,
      rangesInFlight: 2,
      fetchRange: async (start, end, onChunk) => onChunk(bytes.subarray(start, end)),
      failure,
      onDeliver: (chunk) => (seen += chunk.length),
      beforeEnd: () => new Error(`checksum mismatch after ${seen} bytes`),
    });
    await expect(stream.toArray()).rejects.toThrow('checksum mismatch after 2500 bytes');
  });

  it('aborts the fetches in flight when destroyed', async () => {
    const signals: AbortSignal[] = [];
    const stream = parallelRanges({
      start: 0,
      end: 4000,
      rangeSize: 1000,
      rangesInFlight: 4,
      fetchRange: (_start, _end, _onChunk, signal) => {
        signals.push(signal);
        return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
      },
      failure,
    });
    stream.resume();
    await sleep(10);
    stream.destroy();
    expect(signals.length).toBe(4);
    expect(signals.every((signal) => signal.aborted)).toBe(true);
  });

  it('ends at once for an empty read', async () => {
    const stream = parallelRanges({ start: 5, end: 5, rangeSize: 1000, rangesInFlight: 2, fetchRange: async () => {}, failure });
    expect(await stream.toArray()).toEqual([]);
  });
});
