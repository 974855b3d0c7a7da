/**
 * The parallel gzip writer checked by the strict readers: `gzip -t` and a hash of what
 * `gzip -dc` gives back. (Python's extraction alone would hide corrupt back-references.)
 */
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { tarFormat } from './index.js';
import { cutIntoClassedPieces, PieceBuffers } from '@bentoport/tar';
import { deflateMode, parallelGzip, parallelGzipPieces } from './parallel-gzip.js';
import type { DeflateMode } from './parallel-gzip.js';
import { bufferSource, collectEntries, entriesFromList, python, readAll, run, sha256, textBytes, weightLikeBytes } from './test-tree.js';

async function gzipBytes(data: Buffer, mode: DeflateMode, pieceSize: number, concurrency = 3): Promise<Buffer> {
  // Chunks of an awkward size, so that pieces are cut in the middle of chunks.
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let start = 0; start < data.length; start += 100_003) yield data.subarray(start, start + 100_003);
  }
  const output: Buffer[] = [];
  for await (const piece of parallelGzip(chunks(), { mode, pieceSize, concurrency })) output.push(piece);
  return Buffer.concat(output);
}

function expectStrictlyValid(gz: Buffer, data: Buffer): void {
  const test = run('gzip', ['-t'], gz);
  expect(test.stderr).toBe('');
  expect(test.status).toBe(0);
  const decompressed = run('gzip', ['-dc'], gz);
  expect(decompressed.status).toBe(0);
  expect(sha256(decompressed.stdout)).toBe(sha256(data));
}

const compressible = Buffer.concat([textBytes(3_000_000, 7), Buffer.alloc(500_000), textBytes(1_000_001, 8)]);
const random = weightLikeBytes(4_500_000, 9);

/** The same as gzipBytes, with the pieces taken from and given back to `buffers`. */
async function gzipRecycledBytes(data: Buffer, mode: DeflateMode, buffers: PieceBuffers, pieceSize: number): Promise<Buffer> {
  async function* segments() {
    for (let start = 0; start < data.length; start += 100_003) yield { bytes: data.subarray(start, start + 100_003), class: 'compressible' as const };
  }
  const output: Buffer[] = [];
  const pieces = cutIntoClassedPieces(segments(), pieceSize, () => buffers.take());
  for await (const piece of parallelGzipPieces(pieces, { modeFor: () => mode, headerMode: mode, concurrency: 3, buffers })) output.push(piece);
  return Buffer.concat(output);
}

describe('parallelGzip', () => {
  it('recycled piece buffers give the same bytes as fresh ones', async () => {
    // Each piece's buffer is refilled once its compression is done; the output must not change.
    const mode: DeflateMode = { kind: 'deflate', level: 6 };
    const buffers = new PieceBuffers(64 * 1024, 5);
    const recycled = await gzipRecycledBytes(compressible, mode, buffers, 64 * 1024);
    expect(buffers.waiting).toBeGreaterThan(0);
    expect(recycled.equals(await gzipBytes(compressible, mode, 64 * 1024))).toBe(true);
    expectStrictlyValid(recycled, compressible);
  });

  it.each([
    ['compressible', compressible],
    ['random float32', random],
  ])('level 6 over many 256 KiB pieces is one valid gzip member (%s data)', async (_name, data) => {
    const gz = await gzipBytes(data, { kind: 'deflate', level: 6 }, 256 * 1024);
    expectStrictlyValid(gz, data);
  });

  it('level 9, level 1 and stored blocks are valid too', async () => {
    for (const mode of [{ kind: 'deflate', level: 9 }, { kind: 'deflate', level: 1 }, { kind: 'store' }] as DeflateMode[]) {
      expectStrictlyValid(await gzipBytes(compressible, mode, 300_000), compressible);
    }
  });

  it('stored blocks hold at most 65535 bytes and the output is barely larger than the input', async () => {
    const gz = await gzipBytes(random, { kind: 'store' }, 1024 * 1024);
    expectStrictlyValid(gz, random);
    const blocks = Math.ceil(1024 * 1024 / 65_535) * Math.ceil(random.length / (1024 * 1024));
    expect(gz.length).toBeLessThanOrEqual(random.length + 5 * blocks + 10 + 13);
  });

  it('primes each piece with the previous 32 KiB, so the ratio matches single-stream gzip -6', async () => {
    // Small pieces make every cut count: without the dictionary this data comes out 4% larger
    // than single-stream gzip -6 at 64 KiB pieces; with it, within 1% (most of which is zlib's
    // deflate against GNU gzip's own, as single-stream zlib shows).
    const parallel = (await gzipBytes(compressible, { kind: 'deflate', level: 6 }, 64 * 1024)).length;
    const gnuGzip = run('gzip', ['-6', '-c', '-n'], compressible).stdout.length;
    const zlibSingleStream = gzipSync(compressible, { level: 6 }).length;
    expect(parallel / gnuGzip).toBeLessThan(1.01);
    expect(parallel / zlibSingleStream).toBeLessThan(1.003);
  });

  it('gives the same bytes whatever the concurrency', async () => {
    const one = await gzipBytes(compressible, { kind: 'deflate', level: 6 }, 128 * 1024, 1);
    const many = await gzipBytes(compressible, { kind: 'deflate', level: 6 }, 128 * 1024, 8);
    expect(many.equals(one)).toBe(true);
  });

  it('handles empty input and input of exactly one piece', async () => {
    const empty = await gzipBytes(Buffer.alloc(0), { kind: 'deflate', level: 6 }, 1024);
    expectStrictlyValid(empty, Buffer.alloc(0));
    const exact = textBytes(65_536, 3);
    expectStrictlyValid(await gzipBytes(exact, { kind: 'deflate', level: 6 }, 65_536), exact);
  });

  it('is read by Python gzip and by zlib', async () => {
    const gz = await gzipBytes(compressible, { kind: 'deflate', level: 6 }, 200_000);
    expect(gunzipSync(gz).equals(compressible)).toBe(true);
    const digest = python('import gzip, hashlib, sys\nprint(hashlib.sha256(gzip.decompress(sys.stdin.buffer.read())).hexdigest())', [], gz).trim();
    expect(digest).toBe(sha256(compressible));
  });
});

describe('gz through the format', () => {
  it.each(['auto', 'max', 'store'] as const)('compression %s: a multi-MiB archive passes gzip -t and decodes back', async (compression) => {
    const list = [
      { path: 'weights.bin', type: 'file' as const, mode: 0o644, mtime: 1_700_000_000, body: weightLikeBytes(3_500_000, 11) },
      { path: 'notes.txt', type: 'file' as const, mode: 0o644, mtime: 1_700_000_000, body: textBytes(2_200_000, 12) },
    ];
    const format = tarFormat({ concurrency: 2 });
    const gz = await readAll(format.encode(entriesFromList(list), { format: 'gz', compression }));
    const tar = await readAll(format.encode(entriesFromList(list), { format: 'tar' }));
    expectStrictlyValid(gz, tar);
    if (compression === 'store') expect(gz.length).toBeGreaterThan(tar.length);
    else expect(gz.length).toBeLessThan(tar.length);
    const decoded = await collectEntries(format.decode(bufferSource(gz, 65_536), { format: 'gz' }));
    expect(decoded.map((record) => record.sha256)).toEqual(list.map((entry) => sha256(entry.body)));
  });

  it('max compresses smaller than auto, and gzipLevel overrides the policy', async () => {
    const list = [{ path: 'notes.txt', type: 'file' as const, mode: 0o644, mtime: 0, body: textBytes(1_500_000, 13) }];
    const size = async (options: Parameters<typeof tarFormat>[0], compression: 'auto' | 'max'): Promise<number> =>
      (await readAll(tarFormat(options).encode(entriesFromList(list), { format: 'gz', compression }))).length;
    const auto = await size({}, 'auto');
    const max = await size({}, 'max');
    expect(max).toBeLessThan(auto);
    expect(await size({ gzipLevel: 1 }, 'auto')).toBeGreaterThan(auto);
    expect(await size({ gzipLevel: 9 }, 'auto')).toBe(max);
  });
});

describe('gz compression auto, per class', () => {
  it('stores random bytes, compresses text, stays one valid reproducible member', async () => {
    const randomBody = Buffer.from(Array.from({ length: 2_000_000 }, (_, index) => (Math.imul(index + 1, 2_654_435_761) >>> 13) & 0xff));
    const { randomBytes } = await import('node:crypto');
    const trulyRandom = randomBytes(2_000_000);
    const list = [
      { path: 'a.bin', type: 'file' as const, mode: 0o644, mtime: 1_700_000_000, body: trulyRandom },
      { path: 'b.txt', type: 'file' as const, mode: 0o644, mtime: 1_700_000_000, body: textBytes(2_000_000, 21) },
      { path: 'c.bin', type: 'file' as const, mode: 0o644, mtime: 1_700_000_000, body: randomBody },
    ];
    const format = tarFormat({ concurrency: 2 });
    const encode = () => readAll(format.encode(entriesFromList(list), { format: 'gz', compression: 'auto' }));
    const gz = await encode();
    const tar = await readAll(format.encode(entriesFromList(list), { format: 'tar' }));
    expectStrictlyValid(gz, tar);
    expect(sha256(await encode())).toBe(sha256(gz));
    const textOnly = await readAll(format.encode(entriesFromList([list[1] as (typeof list)[number]]), { format: 'gz', compression: 'auto' }));
    // The random file went in as stored blocks: its 2 MB plus at most ~5 bytes per 64 KiB block.
    const randomShare = gz.length - textOnly.length;
    expect(randomShare).toBeGreaterThanOrEqual(trulyRandom.length);
    expect(randomShare).toBeLessThan(trulyRandom.length + randomBody.length + 4096);
  });

  it('maps each class to its setting: stored, run-length for dense weights, the classic level for the rest', () => {
    expect(deflateMode('incompressible', 'auto', undefined)).toEqual({ kind: 'store' });
    expect(deflateMode('dense', 'auto', undefined)).toEqual({ kind: 'deflate', level: 1, strategy: constants.Z_RLE });
    expect(deflateMode('compressible', 'auto', undefined)).toEqual({ kind: 'deflate', level: 6 });
    expect(deflateMode('compressible', 'max', undefined)).toEqual({ kind: 'deflate', level: 9 });
    expect(deflateMode('compressible', 'auto', 3)).toEqual({ kind: 'deflate', level: 3 });
  });

  it('deflates dense weights with run-length matches: no larger than level 1, and still strictly valid', async () => {
    const weights = weightLikeBytes(3_000_000, 17);
    const list = [{ path: 'weights.bin', type: 'file' as const, mode: 0o644, mtime: 1_700_000_000, body: weights }];
    const format = tarFormat({ concurrency: 2 });
    const gz = await readAll(format.encode(entriesFromList(list), { format: 'gz', compression: 'auto' }));
    const tar = await readAll(format.encode(entriesFromList(list), { format: 'tar' }));
    expectStrictlyValid(gz, tar);
    // Float bytes have hardly any long matches: skipping the search for them costs no size.
    expect(gz.length).toBeLessThanOrEqual(gzipSync(tar, { level: 1 }).length);
    expect(gz.length).toBeLessThan(tar.length * 0.95);
  });
});
