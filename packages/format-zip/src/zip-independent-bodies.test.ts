import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ArchiveEntry, ArchiveSource } from '@bentoport/spec';
import { zipFormat } from './index.js';
import type { EntrySpec } from './test-helpers.js';
import { bufferSource, collect, entriesFrom } from './test-helpers.js';

const zip = zipFormat();
const MiB = 1024 * 1024;
// Incompressible, so its compressed body is as large as it is: over the 8 MiB from which a body gets a ranged read of its own.
const large = randomBytes(9 * MiB);
// Compresses far below 8 MiB: shares the cursor's sequential read.
const compressible = Buffer.alloc(12 * MiB, 'weights ');
const specs: EntrySpec[] = [
  { path: 'models', mode: 0o755 },
  { path: 'models/large.bin', content: large },
  { path: 'models/compressible.bin', content: compressible },
  { path: 'src/service.py', content: 'import bentoml\n' },
];
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

async function archive(): Promise<Buffer> {
  return collect(zip.encode(entriesFrom(specs), { format: 'zip', compression: 'auto' }));
}

/** Every entry of the archive, bodies not yet read. */
async function entriesOf(source: ArchiveSource): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = [];
  for await (const entry of zip.decode(source, { format: 'zip' })) {
    entries.push(entry);
    // Bodies on the shared read must be taken in turn; only the independent one waits.
    if (entry.type === 'file' && entry.independentBody !== true) await collect(entry.readWhole ? Readable.from([await entry.readWhole()]) : (entry.open?.() as Readable));
  }
  return entries;
}

describe('independent bodies', () => {
  it('marks a body of 8 MiB or more compressed, which reads exactly while the later entries are taken and read', async () => {
    const marked: string[] = [];
    let largeChunks: AsyncIterator<Buffer> | undefined;
    const largeParts: Buffer[] = [];
    const others = new Map<string, Buffer>();
    for await (const entry of zip.decode(bufferSource(await archive(), 65_536), { format: 'zip' })) {
      if (entry.type !== 'file') continue;
      if (entry.independentBody === true) {
        marked.push(entry.path);
        // Its first chunk now; the rest once the later entries have been read.
        largeChunks = (entry.open?.() as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
        const first = await largeChunks.next();
        if (!first.done) largeParts.push(first.value);
      } else {
        others.set(entry.path, entry.readWhole ? await entry.readWhole() : await collect(entry.open?.() as Readable));
      }
    }
    expect(marked).toEqual(['models/large.bin']);
    expect(largeParts[0]?.length).toBeLessThan(large.length);
    for (let next = await largeChunks!.next(); !next.done; next = await largeChunks!.next()) largeParts.push(next.value);
    expect(sha256(Buffer.concat(largeParts))).toBe(sha256(large));
    expect(sha256(others.get('models/compressible.bin') as Buffer)).toBe(sha256(compressible));
    expect(others.get('src/service.py')?.toString()).toBe('import bentoml\n');
  });

  it('fails with ERR_CORRUPT_ARCHIVE naming the entry when its own range holds damaged bytes', async () => {
    const bytes = await archive();
    // Inside the large body: it is stored (incompressible), so its bytes sit in the archive as they are.
    const at = bytes.indexOf(large.subarray(4 * MiB, 4 * MiB + 64));
    expect(at).toBeGreaterThan(0);
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0x01, at);
    const entries = await entriesOf(bufferSource(bytes, 65_536));
    const body = entries.find((entry) => entry.path === 'models/large.bin')?.open?.() as Readable;
    await expect(collect(body)).rejects.toMatchObject({ code: 'ERR_CORRUPT_ARCHIVE', message: expect.stringContaining('"models/large.bin" fails its CRC-32 check') });
  });

  it('fails with ERR_CORRUPT_ARCHIVE when its own ranged read ends early', async () => {
    const bytes = await archive();
    const full = bufferSource(bytes, 65_536);
    // A transport whose long ranged reads stop short of what was asked (a server closing the connection early).
    const short: ArchiveSource = { ...full, readRange: (start, end) => full.readRange!(start, end - start > 4 * MiB ? start + 4 * MiB : end) };
    const entries = await entriesOf(short);
    const body = entries.find((entry) => entry.path === 'models/large.bin')?.open?.() as Readable;
    await expect(collect(body)).rejects.toMatchObject({ code: 'ERR_CORRUPT_ARCHIVE', message: expect.stringContaining('before the data its directory describes') });
  });
});

describe('independent bodies, unread', () => {
  it('cost no ranged read when their bodies are never opened', async () => {
    const bytes = await archive();
    const full = bufferSource(bytes, 65_536);
    const starts: number[] = [];
    const counting: ArchiveSource = { ...full, readRange: (start, end) => (starts.push(start), full.readRange!(start, end)) };
    const localHeader = bytes.indexOf(Buffer.from('models/large.bin')) - 30;
    expect(bytes.readUInt32LE(localHeader)).toBe(0x04034b50);
    const paths: string[] = [];
    for await (const entry of zip.decode(counting, { format: 'zip' })) paths.push(entry.path);
    expect(paths).toContain('models/large.bin');
    expect(starts).not.toContain(localHeader);
  });

  it('fail with ERR_CORRUPT_ARCHIVE when read, not when listed, if their local header is damaged', async () => {
    const bytes = await archive();
    const localHeader = bytes.indexOf(Buffer.from('models/large.bin')) - 30;
    bytes.writeUInt32LE(0, localHeader);
    const entries: ArchiveEntry[] = [];
    for await (const entry of zip.decode(bufferSource(bytes, 65_536), { format: 'zip' })) entries.push(entry);
    const body = entries.find((entry) => entry.path === 'models/large.bin')?.open?.() as Readable;
    await expect(collect(body)).rejects.toMatchObject({ code: 'ERR_CORRUPT_ARCHIVE', message: expect.stringContaining('"models/large.bin": no local file header') });
  });
});
