import { randomBytes } from 'node:crypto';
import { constants, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FINAL_EMPTY_BLOCK, cutPieces, deflatePieces } from './deflate-pieces.js';
import { hasPython, runPython } from './test-helpers.js';

async function* chunksOf(data: Buffer, chunkSize: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < data.length; offset += chunkSize) yield data.subarray(offset, offset + chunkSize);
}

async function deflateAll(data: Buffer, pieceSize: number, concurrency: number, level = 6): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of deflatePieces(cutPieces(chunksOf(data, 10_007), pieceSize), { level, pieceSize, concurrency })) parts.push(part);
  return Buffer.concat(parts);
}

/** Text that repeats at distances longer than a piece, so back-references cross piece boundaries. */
function repetitive(length: number): Buffer {
  const block = randomBytes(20_000);
  const data = Buffer.alloc(length);
  for (let offset = 0; offset < length; offset += block.length) block.copy(data, offset);
  return data;
}

describe('deflatePieces', () => {
  it('passes the strategy to zlib: run-length matches cannot reach a repeat 20,000 bytes back', async () => {
    const data = repetitive(600_000);
    const parts: Buffer[] = [];
    const options = { level: 1, strategy: constants.Z_RLE, pieceSize: 131_072, concurrency: 2 };
    for await (const part of deflatePieces(cutPieces(chunksOf(data, 10_007), options.pieceSize), options)) parts.push(part);
    const runLength = Buffer.concat(parts);
    expect(inflateRawSync(runLength).equals(data)).toBe(true);
    // The default strategy finds the repeats and shrinks the data ~30×; run-length finds none.
    expect(runLength.length).toBeGreaterThan(10 * (await deflateAll(data, 131_072, 2, 1)).length);
  });

  it('cuts pieces of exactly pieceSize bytes whatever the input chunking', async () => {
    const lengths: number[] = [];
    for await (const piece of cutPieces(chunksOf(randomBytes(100_000), 333), 32_768)) lengths.push(piece.length);
    expect(lengths).toEqual([32_768, 32_768, 32_768, 100_000 - 3 * 32_768]);
  });

  it('produces one raw deflate stream that inflates to the input', async () => {
    for (const data of [repetitive(1_000_000), randomBytes(300_000), Buffer.alloc(0), Buffer.from('x')]) {
      const compressed = await deflateAll(data, 65_536, 4);
      expect(compressed.subarray(-5).equals(FINAL_EMPTY_BLOCK)).toBe(true);
      expect(inflateRawSync(compressed).equals(data)).toBe(true);
    }
  });

  it('uses the previous piece as dictionary, so matches reach across piece boundaries', async () => {
    const data = repetitive(1_000_000);
    const chained = await deflateAll(data, 32_768, 2);
    // Each 32 KiB piece alone contains at most one copy of the 20 KB block plus a part; only the
    // dictionary lets later pieces refer back to it, shrinking them to almost nothing.
    expect(chained.length).toBeLessThan(60_000);
    expect(inflateRawSync(chained).equals(data)).toBe(true);
  });

  it('gives the same bytes for any concurrency', async () => {
    const data = repetitive(700_000);
    const one = await deflateAll(data, 65_536, 1);
    const eight = await deflateAll(data, 65_536, 8);
    expect(eight.equals(one)).toBe(true);
  });

  it.skipIf(!hasPython)('is read by Python zlib as one complete stream', async () => {
    const data = repetitive(500_000);
    const compressed = await deflateAll(data, 65_536, 3, 9);
    const output = runPython(
      'import hashlib, sys, zlib\nd = zlib.decompressobj(-15)\nout = d.decompress(bytes.fromhex(sys.stdin.read()))\nprint(d.eof, len(d.unused_data), hashlib.sha256(out).hexdigest())',
      [],
      { input: compressed.toString('hex') },
    );
    const { createHash } = await import('node:crypto');
    expect(output.trim()).toBe(`True 0 ${createHash('sha256').update(data).digest('hex')}`);
  });
});
