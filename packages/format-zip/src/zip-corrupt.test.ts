import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ArchiveEntry, ArchiveSource } from '@bentoport/spec';
import { zipFormat } from './index.js';
import type { EntrySpec } from './test-helpers.js';
import { bufferSource, collect, decodeAll, entriesFrom } from './test-helpers.js';

const zip = zipFormat();
const specs: EntrySpec[] = [
  { path: 'bento.yaml', content: 'service: svc:Service\n'.repeat(50) },
  { path: 'models', mode: 0o755 },
  { path: 'models/stored-like.bin', content: randomBytes(200_000) },
  { path: 'models/text.txt', content: 'weights weights weights\n'.repeat(20_000) },
  // Compresses to well over 64 KiB, so it takes the streaming inflate path rather than the one-shot one.
  { path: 'models/words.txt', content: pseudoRandomWords(2_000_000) },
];

function pseudoRandomWords(length: number): string {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'tensor', 'bias', 'kernel', 'layer', 'norm', 'head'];
  let state = 42;
  let text = '';
  while (text.length < length) {
    state = (state * 1664525 + 1013904223) >>> 0;
    // The high bits: an LCG's low bits repeat with a short period, which would compress to nothing.
    text += `${words[(state >>> 16) % words.length]}${state & 0x80000000 ? ' ' : '\n'}`;
  }
  return text;
}

async function archiveOf(compression: 'store' | 'auto'): Promise<Buffer> {
  return collect(zip.encode(entriesFrom(specs), { format: 'zip', compression }));
}

function expectCorrupt(promise: Promise<unknown>): Promise<void> {
  return expect(promise).rejects.toMatchObject({ code: 'ERR_CORRUPT_ARCHIVE', message: expect.stringMatching(/^\[format-zip\] read zip: /) });
}

function flip(bytes: Buffer, position: number, mask: number): void {
  bytes.writeUInt8(bytes.readUInt8(position) ^ mask, position);
}

/** Position of the body of `name`: after its local header. */
function bodyOffset(archive: Buffer, name: string): number {
  const header = archive.indexOf(Buffer.from(name)) - 30;
  expect(archive.readUInt32LE(header)).toBe(0x04034b50);
  return header + 30 + archive.readUInt16LE(header + 26) + archive.readUInt16LE(header + 28);
}

/** Offset of the central directory header of `name`. */
function centralHeaderOffset(archive: Buffer, name: string): number {
  const header = archive.lastIndexOf(Buffer.from(name)) - 46;
  expect(archive.readUInt32LE(header)).toBe(0x02014b50);
  return header;
}

describe('damaged archives', () => {
  it('rejects a flipped byte in a stored body (CRC-32 mismatch)', async () => {
    const archive = await archiveOf('store');
    flip(archive, bodyOffset(archive, 'models/stored-like.bin') + 100_000, 0x01);
    await expectCorrupt(decodeAll(zip, bufferSource(archive)));
  });

  it('rejects flipped bytes in deflated bodies, large and small', async () => {
    const sample = await archiveOf('auto');
    expect(sample.readUInt32LE(centralHeaderOffset(sample, 'models/words.txt') + 20)).toBeGreaterThan(150_000);
    for (const [name, at] of [['models/words.txt', 3], ['models/words.txt', 120_000], ['models/text.txt', 3], ['bento.yaml', 3]] as const) {
      const archive = await archiveOf('auto');
      const offset = bodyOffset(archive, name);
      flip(archive, offset + at, 0x55);
      flip(archive, offset + at + 1, 0x55);
      await expectCorrupt(decodeAll(zip, bufferSource(archive)));
    }
  });

  it('rejects a body whose central CRC-32 or size does not match', async () => {
    for (const field of [16, 24]) {
      const archive = await archiveOf('auto');
      const header = centralHeaderOffset(archive, 'models/text.txt');
      archive.writeUInt32LE(archive.readUInt32LE(header + field) ^ 0x10, header + field);
      await expectCorrupt(decodeAll(zip, bufferSource(archive)));
    }
  });

  it('rejects truncated archives wherever they are cut', async () => {
    const archive = await archiveOf('auto');
    for (const length of [0, 4, 21, 30, 1000, Math.floor(archive.length / 2), archive.length - 23, archive.length - 1]) {
      await expectCorrupt(decodeAll(zip, bufferSource(archive.subarray(0, length))));
    }
  });

  it('rejects a source that delivers fewer bytes than its size says', async () => {
    const archive = await archiveOf('store');
    const cut = bodyOffset(archive, 'models/stored-like.bin') + 1000;
    const inner = bufferSource(archive);
    const source: ArchiveSource = {
      size: archive.length,
      stream: inner.stream,
      // Ranged reads covering the cut stop short, as a dropped connection would.
      readRange: (start, end) => (inner.readRange as (s: number, e: number) => Readable)(start, end > cut && start < cut ? cut : end),
    };
    await expectCorrupt(decodeAll(zip, source));
  });

  it('rejects garbage and says so in its message', async () => {
    for (const garbage of [randomBytes(100_000), Buffer.from('hello world, this is not a zip at all'), Buffer.alloc(4096)]) {
      await expectCorrupt(decodeAll(zip, bufferSource(garbage)));
    }
  });

  it('names an unsupported compression method and refuses encrypted entries', async () => {
    const archive = await archiveOf('auto');
    const bzip2 = Buffer.from(archive);
    bzip2.writeUInt16LE(12, centralHeaderOffset(bzip2, 'models/text.txt') + 10);
    await expect(decodeAll(zip, bufferSource(bzip2))).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_FORMAT', message: expect.stringContaining('bzip2') });

    const encrypted = Buffer.from(archive);
    const header = centralHeaderOffset(encrypted, 'bento.yaml');
    encrypted.writeUInt16LE(encrypted.readUInt16LE(header + 8) | 1, header + 8);
    await expect(decodeAll(zip, bufferSource(encrypted))).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_FORMAT', message: expect.stringContaining('encrypted') });
  });

  it('rejects a central directory entry that points at no local header', async () => {
    const archive = await archiveOf('store');
    const header = centralHeaderOffset(archive, 'models/text.txt');
    archive.writeUInt32LE(archive.readUInt32LE(header + 42) + 7, header + 42);
    await expectCorrupt(decodeAll(zip, bufferSource(archive)));
  });
});

describe('sniff', () => {
  it('recognises zip local headers and empty zips only', async () => {
    expect(zip.sniff(await archiveOf('auto'))).toBe('zip');
    expect(zip.sniff(await collect(zip.encode(entriesFrom([]), { format: 'zip' })))).toBe('zip');
    expect(zip.sniff(Buffer.from([0x1f, 0x8b, 8, 0]))).toBeUndefined(); // gzip
    expect(zip.sniff(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]))).toBeUndefined(); // xz
    expect(zip.sniff(Buffer.from('PK'))).toBeUndefined();
    expect(zip.sniff(Buffer.from('PK\x07\x08'))).toBeUndefined();
    expect(zip.sniff(new Uint8Array(512))).toBeUndefined();
  });
});

describe('abort', () => {
  /** A 64 MiB file whose body is produced slowly, so that the abort lands mid-entry. */
  async function* slowEntries(): AsyncGenerator<ArchiveEntry> {
    const size = 64 * 1024 * 1024;
    const body = async function* (): AsyncGenerator<Buffer> {
      for (let sent = 0; sent < size; sent += 1024 * 1024) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        yield Buffer.alloc(1024 * 1024, sent & 0xff);
      }
    };
    yield { path: 'slow.bin', type: 'file', mode: 0o644, mtime: 0, size, open: () => Readable.from(body(), { objectMode: false }) };
  }

  it('destroys the output with ERR_ABORTED when the signal fires while encoding', async () => {
    const controller = new AbortController();
    const output = zip.encode(slowEntries(), { format: 'zip', signal: controller.signal });
    let received = 0;
    const consumed = (async () => {
      for await (const chunk of output) {
        received += (chunk as Buffer).length;
        if (received > 0) controller.abort();
      }
    })();
    await expect(consumed).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(output.destroyed).toBe(true);
  });

  it('fails at once with ERR_ABORTED for a signal that already fired', async () => {
    const signal = AbortSignal.abort();
    await expect(collect(zip.encode(entriesFrom(specs), { format: 'zip', signal }))).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    const archive = await archiveOf('auto');
    const decoding = (async () => {
      for await (const entry of zip.decode(bufferSource(archive), { format: 'zip', signal })) void entry;
    })();
    await expect(decoding).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });

  it('stops decoding with ERR_ABORTED when the signal fires between entries or inside a body', async () => {
    const archive = await archiveOf('store');
    const controller = new AbortController();
    const decoding = (async () => {
      for await (const entry of zip.decode(bufferSource(archive, 1024), { format: 'zip', signal: controller.signal })) {
        if (entry.path === 'models/stored-like.bin' && entry.open) {
          const body = entry.open();
          for await (const chunk of body) {
            void chunk;
            controller.abort();
          }
        }
      }
    })();
    await expect(decoding).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });
});
