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
  it('marks a body of 8 MiB or more compressed, and it reads exactly after every later entry was taken', async () => {
    const entries = await entriesOf(bufferSource(await archive(), 65_536));
    const marked = entries.filter((entry) => entry.independentBody === true).map((entry) => entry.path);
    expect(marked).toEqual(['models/large.bin']);
    const body = entries.find((entry) => entry.path === 'models/large.bin')?.open?.() as Readable;
    expect(sha256(await collect(body))).toBe(sha256(large));
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
