import { Readable } from 'node:stream';
import type { ArchiveEntry, ArchiveSource } from '@bentoport/spec';
import { ByteReader } from './byte-reader.js';
import { MAGIC, MAX_HEADER_BYTES, lineFailure, type EntryHeader, type Trailer } from './line-layout.js';

const BODY_CHUNK = 64 * 1024;
const TYPES: readonly ArchiveEntry['type'][] = ['file', 'directory', 'symlink', 'hardlink', 'other'];

/** How the decoder reads its source: the whole stream, or ranged reads in order (to exercise `randomAccessDecode`). */
export type LineSourceMode = 'stream' | 'ranges';

/** Decode a line archive. Every failure is coded: damage and truncation are ERR_CORRUPT_ARCHIVE, a fired signal ERR_ABORTED. */
export async function* decodeLines(source: ArchiveSource, token: string, mode: LineSourceMode, signal: AbortSignal | undefined): AsyncGenerator<ArchiveEntry> {
  const operation = `read ${token}`;
  const corrupt = (reason: string): Error => lineFailure('ERR_CORRUPT_ARCHIVE', operation, reason);
  const aborted = (): Error => lineFailure('ERR_ABORTED', operation, 'aborted', signal?.reason);
  if (signal?.aborted) throw aborted();
  const input = mode === 'ranges' ? rangedChunks(source, operation) : source.stream();
  const reader = new ByteReader(input[Symbol.asyncIterator](), signal, aborted);
  try {
    const magic = await reader.readLine(MAGIC.length);
    if (magic === undefined || `${magic.toString('latin1')}\n` !== MAGIC) throw corrupt('this is not a line archive (no magic line)');
    let count = 0;
    for (;;) {
      const digestBefore = reader.digest();
      const line = await reader.readLine(MAX_HEADER_BYTES);
      if (line === undefined) throw corrupt(`the archive ends inside or before header ${count + 1}`);
      const record = parseRecord(line, corrupt);
      if ('end' in record) {
        checkTrailer(record, count, digestBefore, corrupt);
        if (!(await reader.atEnd())) throw corrupt('bytes follow the trailer');
        return;
      }
      const body = record.type === 'file' ? new BodyReader(reader, record.size, corrupt) : undefined;
      yield toEntry(record, body);
      await body?.finish();
      if (record.type === 'file' && (await reader.readLine(0)) === undefined) throw corrupt(`no newline after the body of ${record.path}`);
      count += 1;
    }
  } finally {
    if (input instanceof Readable) input.destroy();
  }
}

function toEntry(header: EntryHeader, body: BodyReader | undefined): ArchiveEntry {
  const entry: ArchiveEntry = { path: header.path, type: header.type, mode: header.mode, mtime: header.mtime, size: header.size };
  if (header.linkTarget !== undefined) entry.linkTarget = header.linkTarget;
  if (body !== undefined) entry.open = () => body.open();
  return entry;
}

function parseRecord(line: Buffer, corrupt: (reason: string) => Error): EntryHeader | Trailer {
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch {
    throw corrupt('a header is not valid JSON');
  }
  if (typeof value !== 'object' || value === null) throw corrupt('a header is not a JSON object');
  const record = value as Record<string, unknown>;
  if ('end' in record) {
    if (!Number.isSafeInteger(record.end) || typeof record.sha256 !== 'string') throw corrupt('the trailer is malformed');
    return record as unknown as Trailer;
  }
  const valid =
    typeof record.path === 'string' &&
    record.path !== '' &&
    TYPES.includes(record.type as ArchiveEntry['type']) &&
    Number.isSafeInteger(record.mode) &&
    typeof record.mtime === 'number' &&
    Number.isSafeInteger(record.size) &&
    (record.size as number) >= 0 &&
    (record.linkTarget === undefined || typeof record.linkTarget === 'string');
  if (!valid) throw corrupt('a header lacks a field or has one of the wrong type');
  return record as unknown as EntryHeader;
}

function checkTrailer(trailer: Trailer, count: number, digest: string, corrupt: (reason: string) => Error): void {
  if (trailer.end !== count) throw corrupt(`the trailer counts ${trailer.end} entries, the archive holds ${count}`);
  if (trailer.sha256 !== digest) throw corrupt('the SHA-256 in the trailer does not match the archive');
}

/** The source through `readRange`, 1 MiB at a time, in order. */
async function* rangedChunks(source: ArchiveSource, operation: string): AsyncGenerator<Uint8Array> {
  const { size, readRange } = source;
  if (size === undefined || readRange === undefined) {
    throw new TypeError(`[format-lines] ${operation}: a random-access decode needs source.size and source.readRange`);
  }
  const window = 1024 * 1024;
  for (let start = 0; start < size; start += window) {
    const range = readRange.call(source, start, Math.min(size, start + window));
    try {
      for await (const chunk of range) yield chunk as Uint8Array;
    } finally {
      range.destroy();
    }
  }
}

/**
 * One file body, read from the shared reader. The decoder moves on only after `finish`: an
 * unopened body is skipped, an abandoned one is destroyed and the rest skipped.
 */
class BodyReader {
  private remaining: number;
  private stream: Readable | undefined;
  private inflight: Promise<void> = Promise.resolve();

  constructor(
    private readonly reader: ByteReader,
    size: number,
    private readonly corrupt: (reason: string) => Error,
  ) {
    this.remaining = size;
  }

  open(): Readable {
    if (this.stream !== undefined) throw new TypeError('[format-lines] an entry body can be opened only once');
    const stream = new Readable({
      highWaterMark: BODY_CHUNK,
      read: () => {
        this.inflight = this.pull(stream);
      },
    });
    this.stream = stream;
    return stream;
  }

  async finish(): Promise<void> {
    if (this.stream !== undefined && !this.stream.readableEnded) this.stream.destroy();
    await this.inflight;
    if (!(await this.reader.skip(this.remaining))) throw this.corrupt('the archive ends inside a file body');
    this.remaining = 0;
  }

  private async pull(stream: Readable): Promise<void> {
    if (this.remaining === 0) {
      stream.push(null);
      return;
    }
    try {
      const chunk = await this.reader.readChunk(Math.min(this.remaining, BODY_CHUNK));
      if (stream.destroyed) {
        // The consumer gave up; the bytes are consumed all the same, so `finish` skips the rest.
        if (chunk !== undefined) this.remaining -= chunk.length;
        return;
      }
      if (chunk === undefined) {
        stream.destroy(this.corrupt('the archive ends inside a file body'));
        return;
      }
      this.remaining -= chunk.length;
      stream.push(chunk);
      if (this.remaining === 0) stream.push(null);
    } catch (error) {
      stream.destroy(error as Error);
    }
  }
}
