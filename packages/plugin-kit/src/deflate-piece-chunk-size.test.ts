import { randomBytes } from 'node:crypto';
import { constants, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { deflatePieceChunkSize } from './compressibility.js';

describe('deflatePieceChunkSize', () => {
  it('holds the whole sync-flushed output of incompressible pieces, the worst case, at every level', () => {
    for (const size of [0, 1, 100, 16 * 1024, 65_535, 65_536, 300_001, 1024 * 1024]) {
      const piece = randomBytes(size);
      for (const level of [1, 6, 9]) {
        const output = deflateRawSync(piece, { level, finishFlush: constants.Z_SYNC_FLUSH });
        expect(output.length, `${size} bytes at level ${level}`).toBeLessThanOrEqual(deflatePieceChunkSize(size));
      }
    }
  });

  it('is never below zlib’s smallest chunk', () => {
    expect(deflatePieceChunkSize(0)).toBeGreaterThanOrEqual(constants.Z_MIN_CHUNK);
  });
});
