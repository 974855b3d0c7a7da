import { describe, expect, it } from 'vitest';
import { cutIntoBlockPieces, PIECE_LIMIT } from './bzip2-block-boundaries.js';

async function* chunksOf(input: Buffer, chunkSize: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < input.length; offset += chunkSize) yield input.subarray(offset, offset + chunkSize);
}

/** Bytes with no runs: every block holds 899,981 of them. */
function runless(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let index = 0; index < size; index++) bytes[index] = (index * 7 + (index >> 8)) & 0xff;
  return bytes;
}

describe('cutIntoBlockPieces', () => {
  it('hands out each piece in a buffer of exactly its size, which is what a worker is sent', async () => {
    // Pieces in buffers larger than their bytes (a 2 MiB buffer per 0.9 MB block) doubled what
    // every piece in flight cost; they are transferred to the workers whole.
    const input = Buffer.concat([runless(2_000_000), Buffer.alloc(PIECE_LIMIT + 10, 1)]);
    const pieces: Buffer[] = [];
    for await (const piece of cutIntoBlockPieces(chunksOf(input, 1024 * 1024), 9)) pieces.push(piece);
    // Two full blocks, then the rest of the runless bytes and the run up to the piece limit, then the rest of the run.
    expect(pieces.map((piece) => piece.length)).toEqual([899_981, 899_981, PIECE_LIMIT, 200_048]);
    for (const piece of pieces) {
      expect(piece.byteOffset).toBe(0);
      expect(piece.buffer.byteLength).toBe(piece.length);
    }
    expect(Buffer.concat(pieces).equals(input)).toBe(true);
  });
});
