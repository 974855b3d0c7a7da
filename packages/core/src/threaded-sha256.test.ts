import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { FileDigests } from './file-digests.js';
import { digestingStream, THREADED_DIGEST_MIN_BYTES } from './streams.js';
import { Sha256Thread } from './threaded-sha256.js';

/** Worker threads alive in this process. */
function liveWorkers(): number {
  return (process.report.getReport() as { workers: unknown[] }).workers.length;
}

async function waitForWorkers(count: number): Promise<number> {
  for (let attempt = 0; attempt < 100 && liveWorkers() !== count; attempt++) await sleep(20);
  return liveWorkers();
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('Sha256Thread: several inputs hashed on one worker thread', () => {
  it('gives each input its own digest when their chunks interleave, waiting whenever it asks', async () => {
    const inputs = [randomBytes(5 * 1024 * 1024 + 11), randomBytes(3 * 1024 * 1024), Buffer.from('small'), Buffer.alloc(0)];
    const thread = new Sha256Thread();
    try {
      const hashes = inputs.map(() => thread.open());
      const step = 700_001;
      for (let offset = 0; inputs.some((input) => offset < input.length); offset += step) {
        for (const [index, input] of inputs.entries()) {
          if (offset >= input.length) continue;
          const room = hashes[index]?.update(input.subarray(offset, offset + step));
          if (room) await room;
        }
      }
      const digests = await Promise.all(hashes.map((hash) => hash.digest()));
      expect(digests).toEqual(inputs.map(sha256));
    } finally {
      thread.destroy();
    }
  });

  it('starts its worker with the first batch and stops it on destroy', async () => {
    const before = await waitForWorkers(0);
    const thread = new Sha256Thread();
    const hash = thread.open();
    expect(liveWorkers()).toBe(before);
    hash.update(Buffer.alloc(10));
    const digest = hash.digest();
    expect(await digest).toBe(sha256(Buffer.alloc(10)));
    expect(liveWorkers()).toBe(before + 1);
    thread.destroy();
    expect(await waitForWorkers(before)).toBe(before);
  });

  it('hashes an archive and its files together, one thread for both (a signed export or import)', async () => {
    const before = await waitForWorkers(0);
    const file = randomBytes(2 * 1024 * 1024 + 5);
    const archive = Buffer.concat([Buffer.alloc(512, 1), file, Buffer.alloc(512)]);
    const thread = new Sha256Thread();
    const files = new FileDigests({ threadedFromBytes: 1024 * 1024, thread });
    const digest = digestingStream({ expectedBytes: THREADED_DIGEST_MIN_BYTES, thread });
    try {
      const output: Buffer[] = [];
      digest.on('data', (chunk: Buffer) => output.push(chunk));
      const ended = new Promise((resolve) => digest.on('end', resolve));
      const hashing = files.begin('/weights.bin', file.length);
      for (let offset = 0; offset < archive.length; offset += 300_000) {
        const chunk = archive.subarray(offset, offset + 300_000);
        // The file's bytes are the archive's from 512 on.
        const own = chunk.subarray(Math.max(0, 512 - offset), Math.max(0, Math.min(chunk.length, 512 + file.length - offset)));
        if (own.length > 0) await hashing.update(own);
        if (!digest.write(chunk)) await new Promise((resolve) => digest.once('drain', resolve));
      }
      hashing.end();
      digest.end();
      await ended;
      expect(digest.digest()).toBe(sha256(archive));
      expect((await files.known()).get('/weights.bin')).toEqual({ size: file.length, sha256: sha256(file) });
      expect(liveWorkers()).toBe(before + 1);
    } finally {
      files.destroy();
      thread.destroy();
    }
    expect(await waitForWorkers(before)).toBe(before);
  });
});
