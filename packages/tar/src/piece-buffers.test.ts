import { describe, expect, it } from 'vitest';
import { cutIntoClassedPieces } from './classed-pieces.js';
import { PieceBuffers } from './piece-buffers.js';
import type { TarSegment } from './tar-encoder.js';

async function* segmentsOf(...sizes: number[]): AsyncGenerator<TarSegment> {
  for (const size of sizes) yield { bytes: Buffer.alloc(size, size % 251), class: 'compressible' };
}

describe('PieceBuffers', () => {
  it('hands a recycled buffer out again instead of a new one', () => {
    const buffers = new PieceBuffers(1024, 2);
    const first = buffers.take();
    expect(first.length).toBe(1024);
    buffers.recycle(first.subarray(0, 100)); // a short last piece is the start of its buffer
    expect(buffers.waiting).toBe(1);
    expect(buffers.take().buffer).toBe(first.buffer);
    expect(buffers.waiting).toBe(0);
  });

  it('keeps at most `keep` buffers, once each, and ignores buffers that are not its own size', () => {
    const buffers = new PieceBuffers(1024, 2);
    const taken = [buffers.take(), buffers.take(), buffers.take()];
    for (const piece of taken) buffers.recycle(piece);
    buffers.recycle(taken[0] as Buffer);
    expect(buffers.waiting).toBe(2);
    const other = new PieceBuffers(1024, 4);
    other.recycle(Buffer.allocUnsafeSlow(2048));
    other.recycle(Buffer.allocUnsafeSlow(1024).subarray(1));
    expect(other.waiting).toBe(0);
  });

  it('bounds the buffers of a whole stream to those in flight when pieces are recycled', async () => {
    const buffers = new PieceBuffers(4096, 4);
    const seen = new Set<ArrayBufferLike>();
    for await (const piece of cutIntoClassedPieces(segmentsOf(...Array.from({ length: 64 }, () => 3000)), 4096, () => buffers.take())) {
      seen.add(piece.bytes.buffer);
      buffers.recycle(piece.bytes);
    }
    // 64 × 3000 bytes make 47 pieces: a piece recycled before the next is asked for frees the
    // buffer the next one is cut into, so one buffer does for all of them.
    expect(seen.size).toBe(1);
  });

  it('refuses a newPiece shorter than the piece size (the cut would never end)', async () => {
    const pieces = cutIntoClassedPieces(segmentsOf(10), 4096, () => Buffer.alloc(100));
    await expect(pieces.next()).rejects.toThrow(RangeError);
  });
});
