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

describe('codeWhole', () => {
  it('encodes raw LZMA2 and decodes an xz stream whole, YZ bytes included, in one output buffer when it fits', async () => {
    const input = withFooterMagic(200_000);
    const encoded = Buffer.concat(await codeWhole({ rawEncoder: { filters: [{ id: LZMA2, options: { preset: 1 } }] } }, input, input.length + 1024));
    const decodedRaw = execFileSync('xz', ['--format=raw', '--lzma2=preset=1', '-dc'], { input: encoded, maxBuffer: 1 << 24 });
    expect(decodedRaw.equals(input)).toBe(true);

    const xz = execFileSync('xz', ['-1', '-c'], { input, maxBuffer: 1 << 24 });
    expect(xz.includes('YZ')).toBe(true);
    const output = await codeWhole({ streamDecoder: { memlimit: 64 * 1024 * 1024 } }, xz, input.length);
    expect(output).toHaveLength(1);
    expect((output[0] as Buffer).equals(input)).toBe(true);
  });

  it('gives output larger than its buffer size in several buffers', async () => {
    const input = withFooterMagic(200_000);
    const xz = execFileSync('xz', ['-0', '-c'], { input, maxBuffer: 1 << 24 });
    const output = await codeWhole({ streamDecoder: { memlimit: 64 * 1024 * 1024 } }, xz, 16_384);
    expect(output.length).toBeGreaterThan(1);
    expect(Buffer.concat(output).equals(input)).toBe(true);
  });

  it('rejects a truncated stream and a damaged one instead of waiting for more input', async () => {
    const input = withFooterMagic(100_000);
    const xz = execFileSync('xz', ['-1', '-c'], { input, maxBuffer: 1 << 24 });
    const decoder = { streamDecoder: { memlimit: 64 * 1024 * 1024 } };
    await expect(codeWhole(decoder, xz.subarray(0, xz.length - 100), input.length)).rejects.toThrow();
    const damaged = Buffer.from(xz);
    const middle = damaged.length >> 1;
    damaged[middle] = (damaged[middle] as number) ^ 0xff;
    await expect(codeWhole(decoder, damaged, input.length)).rejects.toThrow();
  });
});
