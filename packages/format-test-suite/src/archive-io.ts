import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ArchiveEntry, ArchiveSource, Format } from '@bentoport/spec';
import type { CheckContext } from './check-context.js';
import { within } from './deadline.js';
import { chunkedBody } from './lazy-body.js';
import type { EntryRecord } from './sample-tree.js';
import { assert } from 'vitest';

/** Ordinary encodes and decodes of the small samples: generous for a slow codec on a busy machine, short of a hang. */
export const OPERATION_MILLISECONDS = 20_000;
const SOURCE_CHUNK = 64 * 1024;

/** Read a stream to its end. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Encode entries with the token under test and collect the archive bytes, bounded in time. */
export async function encodeToBytes(context: Pick<CheckContext, 'format' | 'token'>, entries: AsyncIterable<ArchiveEntry>, what = `encode(${context.token})`): Promise<Buffer> {
  return within(
    (async () => readAll(context.format.encode(entries, { format: context.token })))(),
    OPERATION_MILLISECONDS,
    what,
  );
}

/** Bytes as a stream of modest chunks, pushed only when asked. */
export function streamOf(bytes: Uint8Array): Readable {
  return chunkedBody(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), [SOURCE_CHUNK]);
}

/**
 * The archive as core hands it to this format: a stream only, for a streaming decoder (no size, no
 * ranged reads: it must not need them); stream, size and `readRange` for a `randomAccessDecode` one.
 */
export function sourceFor(format: Format, bytes: Uint8Array): ArchiveSource {
  if (!format.capabilities.randomAccessDecode) return { stream: () => streamOf(bytes) };
  return {
    stream: () => streamOf(bytes),
    size: bytes.length,
    readRange: (start, end) => {
      assert(
        Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end && end <= bytes.length,
        `the decoder asked readRange(${start}, ${end}) of a ${bytes.length}-byte archive`,
      );
      return streamOf(bytes.subarray(start, end));
    },
  };
}

export async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Uint8Array);
  return hash.digest('hex');
}

/** A decoded entry reduced to a record, its body not read. */
export function recordOf(entry: ArchiveEntry): EntryRecord {
  const record: EntryRecord = { path: entry.path, type: entry.type, mode: entry.mode, mtime: entry.mtime, size: entry.size };
  if (entry.linkTarget !== undefined) record.linkTarget = entry.linkTarget;
  return record;
}

/** The SHA-256 of a file entry's body, read through `open()` (only an empty file may lack one). */
export async function bodySha256(entry: ArchiveEntry): Promise<string> {
  if (entry.open === undefined) {
    assert(entry.size === 0, `${entry.path}: a file entry of ${entry.size} bytes has no open()`);
    return createHash('sha256').digest('hex');
  }
  return sha256Of(entry.open());
}

/** Decoded entries reduced to records; bodies are read (and hashed) only when `openBodies`. */
export async function recordsFrom(entries: AsyncIterable<ArchiveEntry>, openBodies = true): Promise<EntryRecord[]> {
  const records: EntryRecord[] = [];
  for await (const entry of entries) {
    const record = recordOf(entry);
    if (entry.type === 'file' && openBodies) record.sha256 = await bodySha256(entry);
    records.push(record);
  }
  return records;
}

/** Decode bytes with `token` (the one under test by default) into records, bounded in time. */
export async function decodeToRecords(context: CheckContext, bytes: Uint8Array, options: { token?: string; openBodies?: boolean } = {}): Promise<EntryRecord[]> {
  const token = options.token ?? context.token;
  return within(
    (async () => recordsFrom(context.format.decode(sourceFor(context.format, bytes), { format: token }), options.openBodies ?? true))(),
    OPERATION_MILLISECONDS,
    `decode(${token})`,
  );
}

function show(record: EntryRecord | undefined): string {
  if (record === undefined) return 'nothing';
  const link = record.linkTarget === undefined ? '' : ` -> ${record.linkTarget}`;
  return `${record.type} ${JSON.stringify(record.path)}${link}`;
}

/** The first field of `actual` that differs from `expected`, as a sentence, or undefined when they agree. */
function difference(actual: EntryRecord, expected: EntryRecord): string | undefined {
  if (actual.path !== expected.path || actual.type !== expected.type) return `expected ${show(expected)}, got ${show(actual)}`;
  const where = `${expected.type} ${JSON.stringify(expected.path)}`;
  // Permission bits of links mean nothing on Linux and many containers do not keep them.
  if ((expected.type === 'file' || expected.type === 'directory') && actual.mode !== expected.mode) {
    return `${where}: mode 0o${actual.mode.toString(8)}, expected 0o${expected.mode.toString(8)}`;
  }
  if (actual.mtime !== expected.mtime) return `${where}: mtime ${actual.mtime}, expected ${expected.mtime}`;
  if (actual.size !== expected.size) return `${where}: size ${actual.size}, expected ${expected.size}`;
  if (actual.linkTarget !== expected.linkTarget) return `${where}: link target ${String(actual.linkTarget)}, expected ${String(expected.linkTarget)}`;
  if (expected.sha256 !== undefined && actual.sha256 !== undefined && actual.sha256 !== expected.sha256) return `${where}: the body differs`;
  return undefined;
}

/** Require the decoded entries to be exactly the encoded ones, in order; report the first difference. */
export function expectSameEntries(actual: EntryRecord[], expected: EntryRecord[], what: string): void {
  const missing = expected.filter((record) => !actual.some((candidate) => candidate.path === record.path));
  const extra = actual.filter((record) => !expected.some((candidate) => candidate.path === record.path));
  if (missing.length > 0 || extra.length > 0) {
    const list = (records: EntryRecord[]): string => records.slice(0, 5).map(show).join(', ') + (records.length > 5 ? ', …' : '');
    assert.fail(`${what}: ${missing.length > 0 ? `lost ${list(missing)}` : ''}${missing.length > 0 && extra.length > 0 ? '; ' : ''}${extra.length > 0 ? `added ${list(extra)}` : ''}`);
  }
  for (let index = 0; index < expected.length; index++) {
    const problem = difference(actual[index] as EntryRecord, expected[index] as EntryRecord);
    if (problem !== undefined) assert.fail(`${what}: entry ${index + 1} of ${expected.length}: ${problem}`);
  }
}
