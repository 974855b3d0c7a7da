import { Readable, pipeline } from 'node:stream';
import { createInflateRaw, crc32, inflateRawSync } from 'node:zlib';
import { isBentoportError } from '@bentoport/spec';
import type { ArchiveEntry, ArchiveEntryType, ArchiveSource, BentoportError } from '@bentoport/spec';
import { INFLATE_CHUNK_BYTES, throwIfAborted, toBentoportError } from '@bentoport/plugin-kit';
import { RangeCursor, type RangeReader } from './range-cursor.js';
import type { CentralEntry } from './zip-central-directory.js';
import { readCentralDirectory } from './zip-central-directory.js';
import { corrupt, zipFailure } from './zip-failures.js';
import {
  DOS_DIRECTORY_ATTRIBUTE,
  FLAG_ENCRYPTED,
  FLAG_STRONG_ENCRYPTION,
  HOST_DARWIN,
  HOST_UNIX,
  LOCAL_HEADER_LENGTH,
  LOCAL_HEADER_SIGNATURE,
  METHOD_DEFLATED,
  METHOD_STORED,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  fromDosDateTime,
} from './zip-records.js';

const OPERATION = '[format-zip] read zip';
/** Symlink targets are read into memory; anything longer than this is not a path. */
const MAX_LINK_TARGET = 64 * 1024;
/**
 * Entries this small (compressed and uncompressed) are inflated in one synchronous call: most files
 * of a bento are tiny, and a zlib stream per entry costs far more than the inflation itself.
 */
const ONE_SHOT_COMPRESSED_LIMIT = 64 * 1024;
const ONE_SHOT_SIZE_LIMIT = 1024 * 1024;
/**
 * Entries whose compressed body is at least this large get a ranged read of their own and are
 * marked `independentBody`, so that an import creates the following small files while this one is
 * still inflating (1 GiB weights plus 10,000 source files: each took about 3 s, one after the
 * other). Smaller bodies share the cursor's one sequential read: over HTTP every ranged read is a
 * request, and a body this large is worth one.
 */
const INDEPENDENT_BODY_BYTES = 8 * 1024 * 1024;

const METHOD_NAMES: Record<number, string> = {
  1: 'shrink', 6: 'implode', 9: 'deflate64', 12: 'bzip2', 14: 'LZMA', 93: 'Zstandard', 95: 'xz', 96: 'JPEG', 97: 'WavPack', 98: 'PPMd', 99: 'AES encryption',
};

function describeMethod(method: number): string {
  const name = METHOD_NAMES[method];
  return name === undefined ? `compression method ${method}` : `compression method ${method} (${name})`;
}

/** A stored path as bentoport spells it: no trailing `/`, no leading `./`; otherwise untouched. */
function entryPath(name: string): string {
  let path = name.replace(/\/+$/, '');
  while (path.startsWith('./')) path = path.slice(2);
  return path;
}

interface EntryShape {
  type: ArchiveEntryType;
  mode: number;
}

/**
 * The entry's type and permission bits. Writers on Unix (and macOS) keep `st_mode` in the upper 16
 * bits of the external attributes; others leave at most the MS-DOS attributes, so we fall back to
 * ordinary permissions.
 */
function entryShape(entry: CentralEntry): EntryShape {
  const host = entry.versionMadeBy >> 8;
  const unixMode = host === HOST_UNIX || host === HOST_DARWIN ? entry.externalAttributes >>> 16 : 0;
  const fileType = unixMode & S_IFMT;
  const directory =
    entry.name.endsWith('/') || fileType === S_IFDIR || (unixMode === 0 && (entry.externalAttributes & DOS_DIRECTORY_ATTRIBUTE) !== 0);
  const type: ArchiveEntryType =
    directory ? 'directory'
    : fileType === S_IFLNK ? 'symlink'
    : fileType === 0 || fileType === S_IFREG ? 'file'
    : 'other';
  const mode = unixMode !== 0 ? unixMode & 0o7777 : directory ? 0o755 : 0o644;
  return { type, mode };
}

function checkReadable(entry: CentralEntry): void {
  if ((entry.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) !== 0 || entry.method === 99) {
    throw zipFailure('read', 'ERR_UNSUPPORTED_FORMAT', `entry "${entry.name}" is encrypted, and format-zip cannot read encrypted entries`, {
      details: { path: entry.name },
    });
  }
  if (entry.method !== METHOD_STORED && entry.method !== METHOD_DEFLATED) {
    throw zipFailure('read', 'ERR_UNSUPPORTED_FORMAT', `entry "${entry.name}" uses ${describeMethod(entry.method)}; format-zip reads only stored and deflated entries`, {
      details: { path: entry.name, method: entry.method },
    });
  }
}

/** Maps a failure while reading a body to a coded error: inflate failures mean damaged data. */
function bodyError(error: unknown, entry: CentralEntry): BentoportError {
  if (isBentoportError(error)) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && code.startsWith('Z_')) {
    const reason = error instanceof Error ? error.message : String(error);
    return corrupt(`entry "${entry.name}": its deflate data is damaged (${reason})`, error);
  }
  return toBentoportError(error, 'format-zip', 'read zip', `entry "${entry.name}"`);
}

/** Where the entry's data starts: after its local header, whose name and extra lengths may differ from the central ones. */
async function dataStart(cursor: RangeCursor, entry: CentralEntry): Promise<number> {
  const header = await cursor.read(entry.localHeaderOffset, LOCAL_HEADER_LENGTH);
  if (header.readUInt32LE(0) !== LOCAL_HEADER_SIGNATURE) {
    throw corrupt(`entry "${entry.name}": no local file header at offset ${entry.localHeaderOffset}`);
  }
  const nameLength = header.readUInt16LE(26);
  const extraLength = header.readUInt16LE(28);
  const name = await cursor.read(entry.localHeaderOffset + LOCAL_HEADER_LENGTH, nameLength);
  if (!name.equals(entry.rawName)) {
    throw corrupt(`entry "${entry.name}": its local header names "${name.toString('utf8')}" instead`);
  }
  return entry.localHeaderOffset + LOCAL_HEADER_LENGTH + nameLength + extraLength;
}

/** The entry's compressed bytes through `cursor`, after its local header; nothing is read before the first is asked for. */
async function* compressedChunks(cursor: RangeCursor, entry: CentralEntry): AsyncGenerator<Buffer> {
  yield* cursor.chunks(await dataStart(cursor, entry), entry.compressedSize);
}

/**
 * The same from a cursor of the body's own, whose one ranged read runs from the local header to
 * the data's end (plus up to 128 KiB, as the local name and extra lengths may differ from the
 * central ones): the shared cursor is never touched, so the next entries need not wait for it.
 */
async function* ownRangeChunks(readRange: RangeReader, archiveSize: number, entry: CentralEntry, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  const end = Math.min(archiveSize, entry.localHeaderOffset + LOCAL_HEADER_LENGTH + 2 * 0xffff + entry.compressedSize);
  const cursor = new RangeCursor(readRange, end, archiveSize, signal);
  try {
    yield* compressedChunks(cursor, entry);
  } finally {
    cursor.close();
  }
}

/**
 * The entry's uncompressed bytes as they stream, checked against the central directory: never more
 * than its size (which also stops decompression bombs early), exactly its size and CRC-32 at the end.
 */
async function* entryBody(compressed: AsyncIterable<Buffer>, entry: CentralEntry, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  let source: Readable | undefined;
  let inflater: ReturnType<typeof createInflateRaw> | undefined;
  let produced = 0;
  let checksum = 0;
  try {
    let output: AsyncIterable<Buffer>;
    if (entry.method === METHOD_STORED) {
      if (entry.compressedSize !== entry.size) {
        throw corrupt(`entry "${entry.name}" is stored but its sizes differ (${entry.compressedSize} and ${entry.size})`);
      }
      output = compressed;
    } else if (entry.compressedSize <= ONE_SHOT_COMPRESSED_LIMIT && entry.size <= ONE_SHOT_SIZE_LIMIT) {
      const parts: Buffer[] = [];
      for await (const chunk of compressed) parts.push(chunk);
      output = oneChunk(inflateSmall(Buffer.concat(parts), entry));
    } else {
      source = Readable.from(compressed, { objectMode: false });
      inflater = createInflateRaw({ chunkSize: INFLATE_CHUNK_BYTES });
      // Errors reach us through the inflater, which pipeline destroys with the source's error.
      pipeline(source, inflater, () => undefined);
      output = inflater;
    }
    for await (const chunk of output) {
      throwIfAborted(signal, 'format-zip', 'read', 'zip');
      produced += chunk.length;
      if (produced > entry.size) throw corrupt(`entry "${entry.name}" holds more than the ${entry.size} bytes its directory entry says`);
      checksum = crc32(chunk, checksum);
      yield chunk;
    }
  } catch (error) {
    throw bodyError(error, entry);
  } finally {
    source?.destroy();
    inflater?.destroy();
  }
  if (produced !== entry.size) throw corrupt(`entry "${entry.name}" holds ${produced} bytes, but its directory entry says ${entry.size}`);
  if (checksum !== entry.crc32) {
    throw corrupt(`entry "${entry.name}" fails its CRC-32 check (stored ${hex(entry.crc32)}, computed ${hex(checksum)})`);
  }
}

function inflateSmall(data: Buffer, entry: CentralEntry): Buffer {
  try {
    // One byte more than the size lets an overlong body reach the size check instead of a zlib error.
    return inflateRawSync(data, { maxOutputLength: entry.size + 1 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw corrupt(`entry "${entry.name}" holds more than the ${entry.size} bytes its directory entry says`, error);
    }
    throw error;
  }
}

async function* oneChunk(chunk: Buffer): AsyncGenerator<Buffer> {
  yield chunk;
}

function hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}

async function readLinkTarget(cursor: RangeCursor, entry: CentralEntry, signal: AbortSignal | undefined): Promise<string> {
  if (entry.size > MAX_LINK_TARGET) throw corrupt(`symlink "${entry.name}" has a ${entry.size}-byte target, which cannot be a path`);
  const parts: Buffer[] = [];
  for await (const chunk of entryBody(compressedChunks(cursor, entry), entry, signal)) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

/** Bodies up to this size are also offered whole (`readWhole`). */
const WHOLE_BODY_BYTES = 1024 * 1024;

/** Every chunk of `body` in one buffer. */
async function wholeBody(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

/**
 * Yields the archive's entries in central directory order. A file's body is read (local header,
 * then data) only when its `open()` stream is read, so skipping an entry costs no I/O beyond what
 * the shared sequential ranged read passes over. A large body (INDEPENDENT_BODY_BYTES) is read,
 * local header and data, by a ranged read of its own, so the next entries do not wait for it.
 */
export async function* readZip(source: ArchiveSource, signal: AbortSignal | undefined): AsyncGenerator<ArchiveEntry> {
  const { size, readRange } = source;
  if (size === undefined || readRange === undefined) {
    throw new TypeError(`${OPERATION}: the source needs size and readRange (core supplies them for codecs with randomAccessDecode)`);
  }
  const rangeReader: RangeReader = (start, end) => readRange.call(source, start, end);
  try {
    throwIfAborted(signal, 'format-zip', 'read', 'zip');
    const directory = await readCentralDirectory(rangeReader, size, signal);
    const cursor = new RangeCursor(rangeReader, directory.start, size, signal);
    try {
      for (const entry of directory.entries) {
        throwIfAborted(signal, 'format-zip', 'read', 'zip');
        // The previous body, if opened, must be finished before the next entry is produced.
        await cursor.idle();
        const path = entryPath(entry.name);
        if (path === '' || path === '.') continue; // the root: implicit in bentoport
        const { type, mode } = entryShape(entry);
        const mtime = entry.unixMtime ?? fromDosDateTime(entry.dosDate, entry.dosTime);
        if (type === 'directory' || type === 'other') {
          yield { path, type, mode, mtime, size: 0 };
          continue;
        }
        checkReadable(entry);
        if (type === 'symlink') {
          yield { path, type, mode, mtime, size: 0, linkTarget: await readLinkTarget(cursor, entry, signal) };
          continue;
        }
        let opened = false;
        const openOnce = (): void => {
          if (opened) throw new TypeError(`${OPERATION}: entry "${path}" was already opened`);
          opened = true;
        };
        const independentBody = entry.compressedSize >= INDEPENDENT_BODY_BYTES;
        const compressed = (): AsyncIterable<Buffer> => (independentBody ? ownRangeChunks(rangeReader, size, entry, signal) : compressedChunks(cursor, entry));
        const file: ArchiveEntry = {
          path, type, mode, mtime, size: entry.size,
          open: () => {
            openOnce();
            return Readable.from(entryBody(compressed(), entry, signal), { objectMode: false });
          },
        };
        if (independentBody) file.independentBody = true;
        if (entry.size <= WHOLE_BODY_BYTES) {
          // A small body in one buffer, without a stream per file (see ArchiveEntry.readWhole).
          file.readWhole = () => {
            openOnce();
            return wholeBody(entryBody(compressed(), entry, signal));
          };
        }
        yield file;
      }
      await cursor.idle();
    } finally {
      cursor.close();
    }
  } catch (error) {
    if (isBentoportError(error) || error instanceof TypeError) throw error;
    // Anything else (a RangeError from a length pointing past a buffer, …) means damaged bytes.
    throw corrupt(`the archive is damaged (${error instanceof Error ? error.message : String(error)})`, error);
  }
}
