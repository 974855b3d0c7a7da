import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { isBentoportError } from '@bentoport/spec';
import { describe, expect, it } from 'vitest';
import { encodePiece } from './lzma2-encoder.js';
import lzma from 'lzma-native';
import { parallelXzDecoder, piecesForLiblzma } from './parallel-xz-decoder.js';
import { indexAndFooter, streamHeader, type EncodedBlock } from './xz-container.js';

/** Text-like and noise-like bytes, seeded. */
function sample(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let offset = 0, counter = 0; offset < length; counter++) {
    const block = counter % 3 === 0 ? Buffer.from(`line ${counter} of seed ${seed}: the quick brown fox\n`) : createHash('sha256').update(`${seed}:${counter}`).digest();
    offset += block.copy(out, offset);
  }
  return out;
}

async function decode(bytes: Buffer, concurrency = 2, chunk = 65_536): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += chunk) chunks.push(bytes.subarray(offset, offset + chunk));
  const decoder = parallelXzDecoder({ concurrency, memoryLimit: 256 * 1024 * 1024 });
  Readable.from(chunks).pipe(decoder);
  const out: Buffer[] = [];
  for await (const piece of decoder as AsyncIterable<Buffer>) out.push(piece);
  return Buffer.concat(out);
}

/** One stream of `blocks`, as our encoder writes it. */
function stream(blocks: EncodedBlock[]): Buffer {
  return Buffer.concat([streamHeader(), ...blocks.flatMap((block) => block.bytes), indexAndFooter(blocks.map((block) => block.record))]);
}

/** The same block with a header that names neither size (as single-threaded xz writes them). */
function withoutSizes(block: EncodedBlock): EncodedBlock {
  const oldHeader = block.bytes[0] as Buffer;
  // Block flags 0x00: one filter, no sizes; then LZMA2 (0x21) with its one properties byte.
  const fields = Buffer.from([0x00, 0x21, 0x01, dictionaryPropertyOf(oldHeader)]);
  const size = Math.ceil((1 + fields.length + 4) / 4) * 4;
  const header = Buffer.alloc(size);
  header[0] = size / 4 - 1;
  fields.copy(header, 1);
  header.writeUInt32LE(crc32(header.subarray(0, size - 4)) >>> 0, size - 4);
  return { bytes: [header, ...block.bytes.slice(1)], record: { ...block.record, unpaddedSize: block.record.unpaddedSize - oldHeader.length + size } };
}

/** The dictionary property byte: the byte after the filter id 0x21 and properties size 1. */
function dictionaryPropertyOf(header: Buffer): number {
  for (let index = 2; index < header.length - 6; index++) if (header[index] === 0x21 && header[index + 1] === 0x01) return header[index + 2] as number;
  throw new Error('no LZMA2 filter in the header');
}

describe('parallel xz decoder', () => {
  it('decodes our multi-block streams (every block class) in order, whatever the concurrency and chunking', async () => {
    const pieces = [sample(300_000, 1), sample(70_000, 2), sample(1_000_000, 3), Buffer.alloc(0), sample(5, 4)];
    const classes = ['compressible', 'dense', 'incompressible', 'compressible', 'dense'] as const;
    const blocks = await Promise.all(pieces.map((piece, index) => encodePiece(piece, classes[index] as (typeof classes)[number])));
    const file = stream(blocks);
    const expected = Buffer.concat(pieces);
    for (const [concurrency, chunk] of [[1, 997], [2, 65_536], [4, 1_000_000]] as const) {
      expect((await decode(file, concurrency, chunk)).equals(expected)).toBe(true);
    }
    // Two of our streams back to back, with stream padding between them.
    expect((await decode(Buffer.concat([file, Buffer.alloc(8), file]))).equals(Buffer.concat([expected, expected]))).toBe(true);
  });

  it('cuts a block without sizes in its header out of the LZMA2 chunks when earlier blocks had sizes', async () => {
    const pieces = [sample(200_000, 5), sample(400_000, 6), sample(100_000, 7)];
    const blocks = await Promise.all(pieces.map((piece, index) => encodePiece(piece, index === 1 ? 'incompressible' : 'compressible')));
    const file = stream([blocks[0] as EncodedBlock, withoutSizes(blocks[1] as EncodedBlock), withoutSizes(blocks[2] as EncodedBlock)]);
    execFileSync('xz', ['-t'], { input: file });
    expect((await decode(file)).equals(Buffer.concat(pieces))).toBe(true);
  });

  it('decodes what xz -T2 writes (CRC64, sizes in headers) and what single-threaded xz and Python write (one block, no sizes)', async () => {
    const data = sample(3_000_000, 8);
    const threaded = execFileSync('xz', ['-c', '-T2', '--block-size=256KiB', '-6'], { input: data, maxBuffer: 1 << 26 });
    const single = execFileSync('xz', ['-c', '-T1', '-1'], { input: data, maxBuffer: 1 << 26 });
    const python = execFileSync('python3', ['-c', 'import lzma,sys; sys.stdout.buffer.write(lzma.compress(sys.stdin.buffer.read(), check=lzma.CHECK_SHA256))'], { input: data, maxBuffer: 1 << 26 });
    for (const file of [threaded, single, python]) expect((await decode(file)).equals(data)).toBe(true);
  });

  it('calls damaged blocks, indexes and footers corrupt', async () => {
    const pieces = [sample(200_000, 9), sample(200_000, 10)];
    const file = stream(await Promise.all(pieces.map((piece) => encodePiece(piece, 'incompressible'))));
    const damage = async (position: number): Promise<unknown> => {
      const copy = Buffer.from(file);
      copy[position] = (copy[position] as number) ^ 0x40;
      return decode(copy).then(
        () => new Error(`byte ${position} flipped and nothing noticed`),
        (error: unknown) => error,
      );
    };
    // In a block's data (the stored bytes: only the check can tell), in the index, in the footer.
    for (const position of [100_000, file.length - 20, file.length - 3]) {
      const error = await damage(position);
      expect(isBentoportError(error, 'ERR_CORRUPT_ARCHIVE'), `flipped byte ${position}: ${String(error)}`).toBe(true);
    }
    const truncated = await decode(file.subarray(0, file.length - 100)).catch((error: unknown) => error);
    expect(isBentoportError(truncated, 'ERR_CORRUPT_ARCHIVE'), String(truncated)).toBe(true);
  });
});

describe('a single-block bomb', () => {
  it('reaches liblzma in pieces that each decode to at most 8 MiB, so backpressure bounds memory', async () => {
    // 256 MiB of zeros in one block without sizes (what Python's lzma writes): ~40 KiB of xz.
    const bomb = execFileSync('python3', ['-c', 'import lzma,sys\nc = lzma.LZMACompressor()\nsys.stdout.buffer.write(b"".join(c.compress(bytes(1 << 20)) for _ in range(256)) + c.flush())'], { maxBuffer: 1 << 24 });
    expect(bomb.length).toBeLessThan(1 << 20);
    const decoder = lzma.createStream('streamDecoder', { synchronous: false });
    let sincePiece = 0;
    let largest = 0;
    let total = 0;
    decoder.on('data', (chunk: Buffer) => {
      sincePiece += chunk.length;
      total += chunk.length;
    });
    // Fed as a file is read (64 KiB chunks), one piece decoded to all 256 MiB.
    for await (const piece of piecesForLiblzma(Readable.from([bomb], { highWaterMark: 65_536 }))) {
      await new Promise<void>((resolve, reject) => decoder.write(piece, (error: Error | null | undefined) => (error ? reject(error) : resolve())));
      largest = Math.max(largest, sincePiece);
      sincePiece = 0;
    }
    await new Promise<void>((resolve) => decoder.end(resolve));
    expect(total).toBe(256 * 1024 * 1024);
    expect(largest).toBeLessThanOrEqual(8 * 1024 * 1024);
  });
});
