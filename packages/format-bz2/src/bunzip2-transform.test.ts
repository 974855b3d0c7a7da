import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Readable, type Transform } from 'node:stream';
import { seededRandom } from '@bentoport/test-utils';
import { describe, expect, it, vi } from 'vitest';
import { bunzip2WithScanner, createBunzip2, type SegmentSource } from './bunzip2-transform.js';
import { Bzip2BlockScanner, MAX_SEGMENT_BYTES, uint32AtBit, type Bzip2Segment } from './bzip2-block-scanner.js';

const WORDS = ['model', 'tensor', 'batch', 'token', 'runner', 'service', 'predict', 'weights', 'layer', 'prompt', '\n', '    '];

/** Seeded text with stretches of incompressible bytes: each `-9` block decodes to ~900 kB. */
function sampleBytes(size: number, seed: number): Buffer {
  const random = seededRandom(seed);
  const bytes = Buffer.alloc(size);
  let offset = 0;
  while (offset < size) {
    if (random.next() < 0.1) {
      const end = Math.min(size, offset + random.integer(1, 20_000));
      while (offset < end) bytes[offset++] = random.integer(0, 255);
    } else {
      offset += bytes.write(`${random.pick(WORDS)} `, offset, 'latin1');
    }
  }
  return bytes;
}

function bzip2(input: Buffer, level = 9): Buffer {
  return execFileSync('bzip2', [`-${level}`, '-c'], { input, maxBuffer: 1 << 30 });
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Feeds `input` in pieces of `chunkSize` bytes (the last one shorter). */
function chunked(input: Buffer, chunkSize: number): Readable {
  let offset = 0;
  return new Readable({
    read() {
      this.push(offset < input.length ? input.subarray(offset, (offset += chunkSize)) : null);
    },
  });
}

async function decode(input: Buffer, chunkSize = 65_536): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of chunked(input, chunkSize).pipe(createBunzip2())) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** Worker threads this process runs right now, as Node's diagnostic report lists them. */
function runningWorkers(): number {
  return (process.report.getReport() as { workers: unknown[] }).workers.length;
}

describe('createBunzip2: libbzip2 (WebAssembly) on a worker thread', () => {
  const plain = sampleBytes(2_500_000, 1);
  const compressed = bzip2(plain);

  it('decodes a multi-block stream to the same bytes whatever the chunking', async () => {
    for (const chunkSize of [997, 4099, 65_536, 1_000_003, compressed.length]) {
      expect(sha256(await decode(compressed, chunkSize)), `chunks of ${chunkSize}`).toBe(sha256(plain));
    }
  });

  it('decodes byte by byte', async () => {
    const small = sampleBytes(40_000, 2);
    expect((await decode(bzip2(small), 1)).equals(small)).toBe(true);
  });

  it('decodes concatenated streams of different block sizes, and an empty one among them', async () => {
    const second = sampleBytes(300_000, 3);
    const input = Buffer.concat([compressed, bzip2(Buffer.alloc(0)), bzip2(second, 1)]);
    expect(sha256(await decode(input, 8191))).toBe(sha256(Buffer.concat([plain, second])));
  });

  it('decodes a block that expands far beyond its compressed size (46 MB of zeros from a few bytes)', async () => {
    const zeros = Buffer.alloc(50_000_000);
    const output = await decode(bzip2(zeros));
    expect(output.length).toBe(zeros.length);
    expect(output.equals(zeros)).toBe(true);
  });

  it('fails with a message naming the fault for corrupt, truncated and non-bzip2 input, and stops the worker', async () => {
    const before = runningWorkers();
    const flipped = Buffer.from(compressed);
    const middle = Math.floor(flipped.length / 2);
    flipped.writeUInt8((flipped[middle] as number) ^ 0x55, middle);
    // The stream CRC is the last 32 bits before 0-7 bits of padding: this changes its last byte.
    const badStreamCrc = Buffer.from(compressed);
    badStreamCrc.writeUInt8((badStreamCrc[badStreamCrc.length - 1] as number) ^ 0x80, badStreamCrc.length - 1);
    const cases = {
      flipped: /corrupt/,
      'stream CRC': /corrupt/,
      truncated: /truncated/,
      'truncated after a whole stream': /truncated/,
      'not bzip2': /not bzip2/,
    };
    const inputs: Record<keyof typeof cases, Buffer> = {
      flipped,
      'stream CRC': badStreamCrc,
      truncated: compressed.subarray(0, compressed.length - 300),
      'truncated after a whole stream': Buffer.concat([compressed, compressed.subarray(0, 5_000)]),
      'not bzip2': plain.subarray(0, 100_000),
    };
    for (const [name, message] of Object.entries(cases)) {
      await expect(decode(inputs[name as keyof typeof cases]), name).rejects.toThrow(message);
    }
    await vi.waitFor(() => expect(runningWorkers()).toBe(before));
  });

  it('ignores bytes after a whole stream that do not start another, as bzip2 -d does', async () => {
    const input = Buffer.concat([compressed, Buffer.alloc(10_240)]);
    expect(sha256(await decode(input, 4099))).toBe(sha256(plain));
  });

  it('decodes an empty input to nothing', async () => {
    expect((await decode(Buffer.alloc(0))).length).toBe(0);
  });

  it('stops decoding while the reader lags, however the input is chunked, then delivers everything', async () => {
    const text = sampleBytes(16_000_000, 4);
    const input = bzip2(text);
    // 64 KiB chunks (what fs streams give) and the whole file as one write.
    for (const [chunkSize, unreadAtMost] of [
      [65_536, 2 * 1024 * 1024],
      [input.length, 6 * 1024 * 1024],
    ] as const) {
      let fed = 0;
      const source = chunked(input, chunkSize).on('data', (chunk: Buffer) => (fed += chunk.length));
      const transform = source.pipe(createBunzip2());
      // Nobody reads: decoding must stop once a few MiB wait, and so must reading the source.
      await vi.waitFor(() => expect(transform.readableLength).toBeGreaterThan(0), { timeout: 30_000 });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(transform.readableLength, `chunks of ${chunkSize}`).toBeLessThan(unreadAtMost);
      if (chunkSize < input.length) expect(fed).toBeLessThan(input.length / 2);
      const parts: Buffer[] = [];
      for await (const part of transform) parts.push(part as Buffer);
      expect(sha256(Buffer.concat(parts)), `chunks of ${chunkSize}`).toBe(sha256(text));
    }
  });

  it('terminates the worker when the reader destroys the stream part-way, and closes only after that', async () => {
    const before = runningWorkers();
    const transform = chunked(compressed, 65_536).pipe(createBunzip2());
    await once(transform, 'readable');
    expect(transform.read()).not.toBeNull();
    expect(runningWorkers()).toBeGreaterThan(before);
    transform.destroy();
    await once(transform, 'close');
    expect(runningWorkers()).toBe(before);
  });

  it('terminates the worker once the output ended', async () => {
    const before = runningWorkers();
    const transform = chunked(compressed, 65_536).pipe(createBunzip2());
    transform.resume();
    await once(transform, 'close');
    expect(runningWorkers()).toBe(before);
  });
});

/**
 * A scanner that also cuts the second block in two, at its middle bit, as a magic found by chance
 * inside its compressed bits would: a block cut (the halves fail to decode alone) or an end of
 * stream followed by bytes that start no stream.
 */
function falseCutScanner(cut: 'block' | 'eos'): SegmentSource {
  const scanner = new Bzip2BlockScanner();
  const pending: Bzip2Segment[] = [];
  let blocks = 0;
  const split = (segment: Bzip2Segment): Bzip2Segment => {
    if (segment.kind !== 'block' || ++blocks !== 2) return segment;
    const middle = segment.startBit + Math.floor((segment.endBit - segment.startBit) / 2);
    const firstByte = Math.floor(segment.startBit / 8);
    const first: Bzip2Segment = { ...segment, endBit: middle, bytes: segment.bytes.slice(0, Math.ceil(middle / 8) - firstByte), end: 'cut' };
    const rest = segment.bytes.slice(Math.floor(middle / 8) - firstByte);
    const second: Bzip2Segment = { ...segment, kind: cut, startBit: middle, bytes: rest, crc: uint32AtBit(rest, (middle % 8) + 48) };
    if (cut === 'eos') second.followedBy = 'trailing';
    pending.push(second);
    return first;
  };
  return {
    push: (chunk) => scanner.push(chunk),
    end: () => scanner.end(),
    next: () => {
      if (pending.length > 0) return pending.shift();
      const segment = scanner.next();
      return segment === undefined ? undefined : split(segment);
    },
  };
}

/** Every segment of `input`, as the decoder takes them. */
function allSegments(input: Buffer): Bzip2Segment[] {
  const scanner = new Bzip2BlockScanner();
  scanner.push(input);
  scanner.end();
  const segments: Bzip2Segment[] = [];
  for (let segment = scanner.next(); segment !== undefined; segment = scanner.next()) segments.push(segment);
  return segments;
}

describe('createBunzip2: blocks decoded in parallel', () => {
  const plain = sampleBytes(4_000_000, 5);
  const compressed = bzip2(plain);

  async function decodeWith(transform: Transform, input: Buffer): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const part of chunked(input, 65_536).pipe(transform)) parts.push(part as Buffer);
    return Buffer.concat(parts);
  }

  it('runs one decoder thread per unit of concurrency, and decodes the same with one or three', async () => {
    await vi.waitFor(() => expect(runningWorkers()).toBe(0));
    const before = runningWorkers();
    for (const concurrency of [1, 3]) {
      const transform = createBunzip2({ concurrency });
      await vi.waitFor(() => expect(runningWorkers()).toBe(before + concurrency));
      expect(sha256(await decodeWith(transform, compressed))).toBe(sha256(plain));
    }
    await vi.waitFor(() => expect(runningWorkers()).toBe(before));
  });

  it('finds every block boundary, at whatever bit offset, and their CRCs combine to the stream CRC', () => {
    const segments = allSegments(compressed);
    const blocks = segments.filter((segment) => segment.kind === 'block');
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    expect(new Set(blocks.map((block) => block.startBit % 8)).size).toBeGreaterThan(1);
    const combined = blocks.reduce((crc, block) => (((crc << 1) | (crc >>> 31)) ^ (block.crc as number)) >>> 0, 0);
    expect(segments.at(-1)).toMatchObject({ kind: 'eos', crc: combined, end: 'eof', followedBy: 'trailing' });
  });

  it('decodes the halves of a block a false cut split as one block, whether the cut looked like a block or an end of stream', async () => {
    for (const cut of ['block', 'eos'] as const) {
      for (const concurrency of [1, 2]) {
        const output = await decodeWith(bunzip2WithScanner(falseCutScanner(cut), concurrency), compressed);
        expect(sha256(output), `${cut}, ${concurrency} thread(s)`).toBe(sha256(plain));
      }
    }
  });

  it('fails, never stalls, when the first block cannot be decoded while later blocks of long runs hold every thread', async () => {
    const input = bzip2(Buffer.concat([sampleBytes(1_000_000, 7), Buffer.alloc(100_000_000)]));
    // origPtr (24 bits, 81 bits into the first block) past any block: libbzip2 refuses the block before any output.
    const broken = Buffer.from(input);
    for (let bit = 32 + 81; bit < 32 + 105; bit++) broken[bit >>> 3] = (broken[bit >>> 3] as number) | (0x80 >>> (bit & 7));
    for (const concurrency of [1, 2]) {
      await expect(decodeWith(createBunzip2({ concurrency }), broken), `${concurrency} thread(s)`).rejects.toThrow(/corrupt/);
    }
  });

  it('reads one chunk holding more streams than the line takes at once', async () => {
    const small = sampleBytes(50_000, 8);
    const empty = bzip2(Buffer.alloc(0));
    const input = Buffer.concat([bzip2(small), empty, empty, empty, empty, empty, empty, empty]);
    for (const concurrency of [1, 2]) {
      const parts: Buffer[] = [];
      for await (const part of chunked(input, input.length).pipe(createBunzip2({ concurrency }))) parts.push(part as Buffer);
      expect(Buffer.concat(parts).equals(small), `${concurrency} thread(s)`).toBe(true);
    }
  });

  it('refuses input with a stream header and no block boundary where one must be', async () => {
    const garbage = Buffer.concat([Buffer.from('BZh9'), sampleBytes(100_000, 6)]);
    await expect(decode(garbage)).rejects.toThrow(/corrupt/);
    const endless = Buffer.concat([compressed.subarray(0, 10), Buffer.alloc(MAX_SEGMENT_BYTES + 1_000_000, 0x55)]);
    await expect(decode(endless)).rejects.toThrow(/corrupt \(no block boundary/);
  });
});
