import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { digestingStream, THREADED_DIGEST_MIN_BYTES } from './streams.js';

/** Worker threads alive in this process. */
function liveWorkers(): number {
  return (process.report.getReport() as { workers: unknown[] }).workers.length;
}

async function waitForWorkers(count: number): Promise<void> {
  for (let attempt = 0; attempt < 100 && liveWorkers() !== count; attempt++) await sleep(20);
}

/** Chunks of awkward sizes: tiny ones, ones that straddle the 1 MiB batches, one larger than a batch. */
function chunksOf(data: Buffer): Buffer[] {
  const sizes = [1, 7, 65_536, 1_048_575, 3, 2_500_000, 333_333];
  const chunks: Buffer[] = [];
  for (let offset = 0, index = 0; offset < data.length; index++) {
    const size = sizes[index % sizes.length] as number;
    chunks.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

async function passThrough(data: Buffer, expectedBytes: number | undefined, consumerDelay = 0): Promise<{ out: Buffer; digest: string; bytes: number }> {
  const digest = digestingStream(expectedBytes === undefined ? {} : { expectedBytes });
  const received: Buffer[] = [];
  await pipeline(
    Readable.from(chunksOf(data)),
    digest,
    new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, callback) {
        received.push(chunk);
        if (consumerDelay > 0) setTimeout(callback, consumerDelay);
        else callback();
      },
    }),
  );
  return { out: Buffer.concat(received), digest: digest.digest(), bytes: digest.bytes };
}

describe('digestingStream', () => {
  const data = randomBytes(9 * 1024 * 1024 + 12_345);
  const expected = createHash('sha256').update(data).digest('hex');

  it.each([
    ['inline (size unknown)', undefined],
    ['inline (small)', 1024],
    ['on a worker thread', THREADED_DIGEST_MIN_BYTES],
  ])('%s: passes every byte on in order and gives the SHA-256 of them', async (_name, expectedBytes) => {
    const { out, digest, bytes } = await passThrough(data, expectedBytes);
    expect(out.equals(data)).toBe(true);
    expect(digest).toBe(expected);
    expect(bytes).toBe(data.length);
  });

  it('on a worker thread: a slow consumer still gets every byte, and the thread is gone afterwards', async () => {
    const before = liveWorkers();
    const { out, digest } = await passThrough(data.subarray(0, 3 * 1024 * 1024), THREADED_DIGEST_MIN_BYTES, 1);
    expect(out.equals(data.subarray(0, 3 * 1024 * 1024))).toBe(true);
    expect(digest).toBe(createHash('sha256').update(data.subarray(0, 3 * 1024 * 1024)).digest('hex'));
    await waitForWorkers(before);
    expect(liveWorkers()).toBe(before);
  });

  it('an empty input has the empty digest, threaded or not', async () => {
    for (const expectedBytes of [undefined, THREADED_DIGEST_MIN_BYTES]) {
      expect((await passThrough(Buffer.alloc(0), expectedBytes)).digest).toBe(createHash('sha256').digest('hex'));
    }
  });

  it('refuses to give a digest before the stream ended, instead of the digest of a prefix', () => {
    for (const options of [{}, { expectedBytes: THREADED_DIGEST_MIN_BYTES }]) {
      const digest = digestingStream(options);
      digest.write(Buffer.from('partial'));
      expect(() => digest.digest()).toThrow(/before the stream ended/);
      digest.destroy();
    }
  });

  it('destroyed mid-way: the worker thread is stopped', async () => {
    const before = liveWorkers();
    const digest = digestingStream({ expectedBytes: THREADED_DIGEST_MIN_BYTES });
    digest.resume();
    digest.write(data.subarray(0, 2 * 1024 * 1024));
    await waitForWorkers(before + 1);
    expect(liveWorkers()).toBe(before + 1);
    digest.destroy();
    await waitForWorkers(before);
    expect(liveWorkers()).toBe(before);
  });
});
