import { randomBytes } from 'node:crypto';
import { seededRandom } from '@bentoport/test-utils';
import { describe, expect, it } from 'vitest';
import { detectDenseLayout, hasStrongPositionStructure, isBinary, storedFractionWithin } from './dense-layout.js';

const PIECE = 2 * 1024 * 1024;

function float32Weights(length: number, seed = 1): Buffer {
  const random = seededRandom(seed);
  const values = new Float32Array(length / 4);
  for (let index = 0; index < values.length; index++) values[index] = random.gaussian() * 0.02;
  return Buffer.from(values.buffer);
}

/** fp16 values of gaussian weights, through Node's own float16 conversion where it has one. */
function float16Weights(length: number, seed = 3): Buffer {
  const random = seededRandom(seed);
  const out = Buffer.alloc(length);
  const scratch = new Float32Array(1);
  const bits = new Uint32Array(scratch.buffer);
  for (let index = 0; index < length; index += 2) {
    scratch[0] = random.gaussian() * 0.02;
    const word = bits[0] as number;
    // float32 → float16 by truncation: sign, exponent rebiased (gaussian weights stay in range), top 10 mantissa bits.
    const exponent = ((word >>> 23) & 0xff) - 127 + 15;
    const half = ((word >>> 16) & 0x8000) | (Math.max(0, Math.min(31, exponent)) << 10) | ((word >>> 13) & 0x3ff);
    out.writeUInt16LE(half, index);
  }
  return out;
}

/** bf16: the high half of each float32. */
function bfloat16Weights(length: number, seed = 4): Buffer {
  const floats = float32Weights(length * 2, seed);
  const out = Buffer.alloc(length);
  for (let index = 0; index < length; index += 2) floats.copy(out, index, index * 2 + 2, index * 2 + 4);
  return out;
}

/** int8 quantisation: one byte per value, no position structure. */
function int8Weights(length: number, seed = 5): Buffer {
  const random = seededRandom(seed);
  const out = Buffer.alloc(length);
  for (let index = 0; index < length; index++) out[index] = Math.max(-127, Math.min(127, Math.round(random.gaussian() * 30))) & 0xff;
  return out;
}

describe('dense layout detection', () => {
  it('float32 weights: lc=1 lp=2 pb=2, and noise-like values leave room to store some chunks', () => {
    const decision = detectDenseLayout(float32Weights(PIECE));
    expect(decision.layout).toBe('float32');
    expect(decision.properties).toEqual({ literalContextBits: 1, literalPositionBits: 2, positionBits: 2 });
    expect(decision.bitsPerByte.float32).toBeLessThan(decision.bitsPerByte.xz * 0.95);
    expect(decision.repeatedWords).toBeLessThan(0.01);
    expect(decision.storedFraction).toBeGreaterThan(0.2);
    expect(decision.storedFraction).toBeLessThan(0.6);
  });

  it.each([
    ['fp16', float16Weights],
    ['bf16', bfloat16Weights],
  ])('%s weights: 16-bit, lc=1 lp=1 pb=1', (_name, make) => {
    const decision = detectDenseLayout(make(PIECE));
    expect(decision.layout).toBe('16-bit');
    expect(decision.properties).toEqual({ literalContextBits: 1, literalPositionBits: 1, positionBits: 1 });
  });

  it('int8 weights, random bytes and text have no position structure: other (liblzma)', () => {
    for (const piece of [int8Weights(PIECE), randomBytes(PIECE), Buffer.from('def predict(self, x):\n    return x\n'.repeat(30_000))]) {
      const decision = detectDenseLayout(piece);
      expect(decision.layout).toBe('other');
      expect(decision.properties).toBeUndefined();
    }
  });

  it('stores nothing where words repeat (quantised weights: xz matches pay)', () => {
    // 64 distinct float32 values: position structure, but every word recurs.
    const random = seededRandom(9);
    const palette = Array.from({ length: 64 }, () => random.gaussian() * 0.02);
    const values = new Float32Array(PIECE / 4).map(() => palette[random.integer(0, 63)] as number);
    const decision = detectDenseLayout(new Uint8Array(values.buffer));
    expect(decision.repeatedWords).toBeGreaterThan(0.5);
    expect(decision.storedFraction).toBe(0);
  });

  it('is a pure function of the bytes, whatever the piece size (small pieces are read whole)', () => {
    const piece = float32Weights(4096 * 3);
    expect(detectDenseLayout(piece)).toEqual(detectDenseLayout(Buffer.from(piece)));
    expect(detectDenseLayout(new Uint8Array(0)).layout).toBe('other');
  });

  it('storedFractionWithin: the share of 8-bit chunks that keeps the average within the budget', () => {
    expect(storedFractionWithin(6, 7)).toBeCloseTo(0.5);
    expect(storedFractionWithin(7, 6)).toBe(0);
    expect(storedFractionWithin(8, 9)).toBe(0);
    expect(storedFractionWithin(0, 9)).toBe(1);
  });
});

describe('strong position structure (compressible pieces that leave xz preset 6)', () => {
  it('fp16 weights rounded to 6 mantissa bits (compress well, strong lanes) have it; text and int8 do not', () => {
    const random = seededRandom(11);
    const scratch = new Float32Array(1);
    const bits = new Uint32Array(scratch.buffer);
    const quantised = Buffer.alloc(PIECE);
    for (let index = 0; index < PIECE; index += 2) {
      scratch[0] = random.gaussian() * 0.02;
      const word = bits[0] as number;
      const exponent = Math.max(0, Math.min(31, ((word >>> 23) & 0xff) - 112));
      quantised.writeUInt16LE(((word >>> 16) & 0x8000) | (exponent << 10) | ((word >>> 13) & 0x3f0), index);
    }
    const decision = detectDenseLayout(quantised);
    expect(decision.layout).toBe('16-bit');
    expect(hasStrongPositionStructure(decision)).toBe(true);
    const text = Buffer.from('class Runner:\n    def run(self, batch):\n        return self.model(batch)\n'.repeat(25_000));
    expect(hasStrongPositionStructure(detectDenseLayout(text))).toBe(false);
    expect(isBinary(detectDenseLayout(text))).toBe(false);
    expect(isBinary(decision)).toBe(true);
    expect(hasStrongPositionStructure(detectDenseLayout(int8Weights(PIECE)))).toBe(false);
  });
});
