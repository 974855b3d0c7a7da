/**
 * Shared by this package's tests only (not exported): entries from a literal list, an archive
 * source over bytes in odd-sized chunks, and decoded entries read back with their bodies.
 */
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { ArchiveEntry, ArchiveSource } from '@bentoport/spec';
import { seededRandom } from '@bentoport/test-utils';

/** An entry as a test writes it: the body as bytes, the size derived from it. */
export type EntrySpec = Omit<ArchiveEntry, 'open' | 'size'> & { body?: Buffer };

/** Entries as core sends them, bodies served from memory. */
export async function* entriesOf(specs: readonly EntrySpec[]): AsyncGenerator<ArchiveEntry> {
  for (const { body, ...entry } of specs) {
    yield body === undefined ? { ...entry, size: 0 } : { ...entry, size: body.length, open: () => Readable.from([body]) };
  }
}

/** An archive source over `bytes`, delivered in odd-sized chunks so headers straddle them. */
export function sourceOf(bytes: Uint8Array, chunkSize = 7919): ArchiveSource {
  const chunks: Buffer[] = [];
  for (let start = 0; start < bytes.length; start += chunkSize) chunks.push(Buffer.from(bytes.subarray(start, start + chunkSize)));
  return { size: bytes.length, stream: () => Readable.from(chunks) };
}

/** A decoded entry with its whole body (tests use small archives). */
export type DecodedEntry = Omit<ArchiveEntry, 'open'> & { body?: Buffer };

/** Every entry, each body read in full before the next entry is asked for. */
export async function readEntries(entries: AsyncIterable<ArchiveEntry>): Promise<DecodedEntry[]> {
  const decoded: DecodedEntry[] = [];
  for await (const { open, readWhole, ...entry } of entries) {
    // A small body offered whole is read that way, as safe extraction reads it.
    if (readWhole !== undefined) decoded.push({ ...entry, body: await readWhole() });
    else decoded.push(open === undefined ? entry : { ...entry, body: await buffer(open()) });
  }
  return decoded;
}

/** `size` seeded bytes that no compressor shrinks. */
export function noise(size: number, seed: number): Buffer {
  const random = seededRandom(seed);
  const bytes = Buffer.allocUnsafe(size);
  for (let index = 0; index < size; index++) bytes[index] = random.integer(0, 255);
  return bytes;
}
