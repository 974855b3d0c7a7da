import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { classifySample, effectiveClass } from './compressibility.js';

/** Seeded gaussian float32 values (deviation 0.02), as the sample bento's weights. */
function float32Noise(count: number, seed: number): Buffer {
  let state = seed >>> 0;
  const next = () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return (state + 1) / 2 ** 32;
  };
  const values = new Float32Array(count);
  for (let index = 0; index < count; index++) values[index] = Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next()) * 0.02;
  return Buffer.from(values.buffer);
}

function pythonText(bytes: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let index = 0; length < bytes; index++) {
    const line = `def predict_${index}(batch):\n    return model.run(batch, device="cpu", scale=${index % 7})\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

describe('classifySample', () => {
  it('calls seeded float32 weights dense, so they get the fast setting', () => {
    expect(classifySample(float32Noise(64 * 1024, 7))).toBe('dense');
  });

  it('calls random and already-compressed bytes incompressible, so they are stored', () => {
    expect(classifySample(randomBytes(256 * 1024))).toBe('incompressible');
    expect(classifySample(gzipSync(float32Noise(256 * 1024, 5), { level: 9 }).subarray(0, 256 * 1024))).toBe('incompressible');
  });

  it('calls source text compressible, so it keeps the classic setting', () => {
    expect(classifySample(pythonText(256 * 1024))).toBe('compressible');
    expect(classifySample(Buffer.alloc(0))).toBe('compressible');
  });

  it('is a pure function of the bytes (archives stay reproducible)', () => {
    const sample = float32Noise(10_000, 3);
    expect(classifySample(sample)).toBe(classifySample(Buffer.from(sample)));
  });
});

describe('effectiveClass', () => {
  it('max compresses everything classically, store stores everything, auto keeps the sample class', () => {
    expect(effectiveClass('max', 'incompressible')).toBe('compressible');
    expect(effectiveClass('store', 'compressible')).toBe('incompressible');
    expect(effectiveClass('auto', 'dense')).toBe('dense');
  });
});
