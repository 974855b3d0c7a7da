import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import lzma from 'lzma-native';
import { describe, expect, it } from 'vitest';
import { codeWhole } from './liblzma-whole.js';

const LZMA2 = lzma.FILTER_LZMA2;

/** Random bytes with `YZ` (the end of an xz footer) planted every 1000 bytes, plus text. */
function withFooterMagic(length: number): Buffer {
  const bytes = Buffer.concat([randomBytes(length / 2), Buffer.from('def f(x):\n    return x\n'.repeat(length / 48))]);
  for (let at = 0; at + 1 < bytes.length; at += 1000) bytes.write('YZ', at, 'latin1');
  return bytes;
}

/** What xz itself decodes the raw LZMA2 data to. */
function xzDecodesRaw(encoded: Buffer, preset: number): Buffer {
  return execFileSync('xz', ['--format=raw', `--lzma2=preset=${preset}`, '-dc'], { input: encoded, maxBuffer: 1 << 24 });
}

describe('codeWhole', () => {
  it('encodes raw LZMA2 whole, YZ bytes included, as xz decodes it', async () => {
    const input = withFooterMagic(200_000);
    const output = await codeWhole({ rawEncoder: { filters: [{ id: LZMA2, options: { preset: 1 } }] } }, input, input.length + 1024);
    expect(xzDecodesRaw(Buffer.concat(output), 1).equals(input)).toBe(true);
  });

  it('gives output larger than its buffer size in several buffers, in order', async () => {
    const input = randomBytes(700_000);
    const output = await codeWhole({ rawEncoder: { filters: [{ id: LZMA2, options: { preset: 0 } }] } }, input, 16_384);
    expect(output.length).toBeGreaterThan(1);
    expect(xzDecodesRaw(Buffer.concat(output), 0).equals(input)).toBe(true);
  });
});
