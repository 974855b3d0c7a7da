import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LiteralEncoderPool } from './literal-encoder-pool.js';
import { encodeLiteralLzma2 } from './literal-lzma2.js';
import type { LiteralProperties } from './literal-lzma2.js';

const FLOAT32: LiteralProperties = { literalContextBits: 1, literalPositionBits: 2, positionBits: 2 };

/** Bytes with float32 structure: a near-constant high byte, noisy low bytes. */
function weightsLike(length: number): Buffer {
  const bytes = randomBytes(length);
  for (let index = 3; index < length; index += 4) bytes[index] = 0x3c + ((bytes[index] as number) & 1);
  return bytes;
}

describe('literal encoder pool', () => {
  it('codes pieces on workers exactly as in-process, in parallel, and leaves the caller its piece', async () => {
    const pool = new LiteralEncoderPool(2);
    try {
      const pieces = [weightsLike(300_000), weightsLike(65_536), weightsLike(1), Buffer.alloc(0)];
      const outputs = await Promise.all(pieces.map((piece) => pool.encode(piece, FLOAT32, 1 / 3)));
      outputs.forEach((output, index) => {
        const expected = encodeLiteralLzma2(pieces[index] as Buffer, { properties: FLOAT32, storedFraction: 1 / 3 });
        expect(output.equals(Buffer.from(expected))).toBe(true);
      });
      expect(pieces[0]?.length).toBe(300_000);
    } finally {
      await pool.close();
    }
  });

  it('reuses its shared buffers across pieces of any size, one piece per worker at a time', async () => {
    const pool = new LiteralEncoderPool(1);
    try {
      // Small, then larger (the buffers grow), then small again (a stale tail must not leak in).
      for (const length of [70_000, 400_000, 3]) {
        const piece = weightsLike(length);
        const expected = encodeLiteralLzma2(piece, { properties: FLOAT32, storedFraction: 0 });
        expect((await pool.encode(piece, FLOAT32, 0)).equals(Buffer.from(expected))).toBe(true);
      }
      const queued = [weightsLike(100_000), weightsLike(200_000), weightsLike(50_000)];
      const outputs = await Promise.all(queued.map((piece) => pool.encode(piece, FLOAT32, 0.5)));
      outputs.forEach((output, index) => {
        expect(output.equals(Buffer.from(encodeLiteralLzma2(queued[index] as Buffer, { properties: FLOAT32, storedFraction: 0.5 })))).toBe(true);
      });
    } finally {
      await pool.close();
    }
  });

  it('rejects with the encoder error for invalid properties, and keeps working', async () => {
    const pool = new LiteralEncoderPool(1);
    try {
      await expect(pool.encode(Buffer.alloc(8), { literalContextBits: 4, literalPositionBits: 4, positionBits: 0 }, 0)).rejects.toThrow(/lc \+ lp <= 4/);
      expect((await pool.encode(Buffer.alloc(8), FLOAT32, 0)).length).toBeGreaterThan(0);
    } finally {
      await pool.close();
    }
  });

  it('fails pending encodes when closed', async () => {
    const pool = new LiteralEncoderPool(1);
    const pending = pool.encode(weightsLike(4 * 1024 * 1024), FLOAT32, 0);
    await pool.close();
    await expect(pending).rejects.toThrow(/exited/);
  });
});
