import type { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import type { ArchiveEntry, CompressionPolicy } from '@bentoport/spec';
import { CLASSIFY_MIN_BYTES, CLASSIFY_SAMPLE_BYTES, classifySample, DENSE_DEFLATE, effectiveClass, throwIfAborted } from '@bentoport/plugin-kit';
import type { CompressibilityClass } from '@bentoport/plugin-kit';
import { cutPieces, deflatePieces } from './deflate-pieces.js';
import { encodeEntryName } from './entry-names.js';
import { zipFailure } from './zip-failures.js';
import {
  DOS_DIRECTORY_ATTRIBUTE,
  FLAG_DATA_DESCRIPTOR,
  HOST_UNIX,
  METHOD_DEFLATED,
  METHOD_STORED,
  S_IFDIR,
  S_IFREG,
  VERSION_DEFAULT,
  VERSION_ZIP64,
  ZIP64_MARKER_32,
  centralHeader,
  dataDescriptor,
  endOfCentralDirectory,
  extendedTimestampExtra,
  localHeader,
  toDosDateTime,
  zip64Extra,
} from './zip-records.js';

export interface ZipWriterSettings {
  compression: CompressionPolicy;
  pieceSize: number;
  concurrency: number;
  signal: AbortSignal | undefined;
}

const OPERATION = '[format-zip] write zip';
const EMPTY = Buffer.alloc(0);
/** Central directory headers are emitted in batches of about this size instead of one tiny chunk each. */
const CENTRAL_BATCH_SIZE = 64 * 1024;

/**
 * The most bytes deflate can turn `size` bytes into: zlib's own bound (about size/4096 + size/16384
 * for stored fallback blocks, plus a few bytes per stream) rounded up generously, plus a sync flush
 * per piece and the final block. Used to decide Zip64 before compressing, because the local header
 * is written first.
 */
export function deflateBound(size: number, pieceSize: number): number {
  const pieces = Math.max(1, Math.ceil(size / pieceSize));
  return size + Math.ceil(size / 2048) + pieces * 64 + 64;
}

/**
 * The method and deflate level of one entry. `max` deflates everything at 9, `store` stores
 * everything; `auto` samples files of CLASSIFY_MIN_BYTES or more: incompressible data (already
 * compressed, random) is stored, dense data (model weights) deflated with run-length matches only
 * (as small as level 6 on weights, 3–4x faster than level 1; see DENSE_DEFLATE), the rest
 * deflated at 6.
 */
export function entrySetting(compression: CompressionPolicy, sampled: CompressibilityClass): { method: number; level: number; strategy?: number } {
  const entryClass = effectiveClass(compression, sampled);
  if (entryClass === 'incompressible') return { method: METHOD_STORED, level: 0 };
  if (entryClass === 'dense') return { method: METHOD_DEFLATED, ...DENSE_DEFLATE };
  return { method: METHOD_DEFLATED, level: compression === 'max' ? 9 : 6 };
}

/**
 * The first CLASSIFY_SAMPLE_BYTES of `body` and the whole body again (those bytes first, then the
 * rest as it streams): zip writes the method into the local header, before the body.
 */
async function sampleBody(body: AsyncIterable<Buffer>): Promise<{ sample: Buffer; body: AsyncIterable<Buffer> }> {
  const iterator = body[Symbol.asyncIterator]();
  const held: Buffer[] = [];
  let heldBytes = 0;
  let done = false;
  while (heldBytes < CLASSIFY_SAMPLE_BYTES) {
    const step = await iterator.next();
    if (step.done === true) {
      done = true;
      break;
    }
    held.push(step.value);
    heldBytes += step.value.length;
  }
  const sample = Buffer.concat(held);
  return {
    sample: sample.subarray(0, CLASSIFY_SAMPLE_BYTES),
    body: (async function* () {
      yield* held;
      if (done) return;
      try {
        while (true) {
          const step = await iterator.next();
          if (step.done === true) return;
          yield step.value;
        }
      } finally {
        await iterator.return?.();
      }
    })(),
  };
}

/**
 * `bytes` in a buffer of its own. A short Buffer is a slice of Node's shared 8 KiB pool, and a
 * slice kept alive keeps its whole slab alive: the names kept for the central directory pinned
 * one slab every few entries (tens of MiB for 10,000 files, until the archive's end).
 */
function detachedCopy(bytes: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
}

function unixAttributes(fileType: number, mode: number): number {
  // Multiplication instead of << keeps the result unsigned when the type bits reach bit 31.
  return (fileType | (mode & 0o7777)) * 0x10000;
}

/** Yields a file body while computing its CRC-32 and checking that it is exactly `size` bytes. */
async function* checkedBody(
  entry: ArchiveEntry,
  signal: AbortSignal | undefined,
  totals: { crc32: number; size: number },
): AsyncGenerator<Buffer> {
  if (entry.readWhole !== undefined) {
    // A small body in one buffer: no stream per file (see ArchiveEntry.readWhole).
    throwIfAborted(signal, 'format-zip', 'write', 'zip');
    const bytes = await entry.readWhole();
    totals.size = bytes.length;
    if (bytes.length === entry.size) {
      totals.crc32 = crc32(bytes, totals.crc32);
      if (bytes.length > 0) yield bytes;
    }
  } else if (entry.open === undefined) {
    if (entry.size === 0) return;
    throw new TypeError(`${OPERATION}: file entry "${entry.path}" has no open()`);
  } else {
    yield* streamedBody(entry, entry.open(), signal, totals);
  }
  if (totals.size !== entry.size) {
    const relation = totals.size > entry.size ? 'more' : 'fewer';
    throw zipFailure('write', 'ERR_IO', `entry "${entry.path}" delivered ${relation} bytes than its size ${entry.size} (did the file change?)`, {
      details: { path: entry.path, expected: entry.size, actual: totals.size },
    });
  }
}

/** The chunks of a body stream, counted into `totals` and stopped past `entry.size`. */
async function* streamedBody(entry: ArchiveEntry, body: Readable, signal: AbortSignal | undefined, totals: { crc32: number; size: number }): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of body as AsyncIterable<Buffer | string>) {
      throwIfAborted(signal, 'format-zip', 'write', 'zip');
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      totals.size += bytes.length;
      if (totals.size > entry.size) break;
      totals.crc32 = crc32(bytes, totals.crc32);
      yield bytes;
    }
  } finally {
    if (!body.destroyed) body.destroy();
  }
}

interface WrittenEntry {
  name: Buffer;
  flags: number;
  method: number;
  dosDate: number;
  dosTime: number;
  crc32: number;
  compressedSize: number;
  size: number;
  mtime: number;
  externalAttributes: number;
  localHeaderOffset: number;
  /** The local header carried a Zip64 extra field (so the data descriptor has 8-byte sizes). */
  localZip64: boolean;
}

function centralRecord(entry: WrittenEntry): Buffer {
  // APPNOTE 4.5.3: the Zip64 extra holds exactly the fields whose 32-bit slot says 0xFFFFFFFF, in order.
  const zip64Values: number[] = [];
  if (entry.size >= ZIP64_MARKER_32) zip64Values.push(entry.size);
  if (entry.compressedSize >= ZIP64_MARKER_32) zip64Values.push(entry.compressedSize);
  if (entry.localHeaderOffset >= ZIP64_MARKER_32) zip64Values.push(entry.localHeaderOffset);
  const zip64 = entry.localZip64 || zip64Values.length > 0;
  const version = zip64 ? VERSION_ZIP64 : VERSION_DEFAULT;
  const extra = Buffer.concat([
    zip64Values.length > 0 ? zip64Extra(zip64Values) : EMPTY,
    extendedTimestampExtra(entry.mtime),
  ]);
  return centralHeader({
    versionMadeBy: (HOST_UNIX << 8) | version,
    versionNeeded: version,
    flags: entry.flags,
    method: entry.method,
    dosDate: entry.dosDate,
    dosTime: entry.dosTime,
    crc32: entry.crc32,
    compressedSize: Math.min(entry.compressedSize, ZIP64_MARKER_32),
    size: Math.min(entry.size, ZIP64_MARKER_32),
    name: entry.name,
    extra,
    externalAttributes: entry.externalAttributes,
    localHeaderOffset: Math.min(entry.localHeaderOffset, ZIP64_MARKER_32),
  });
}

/**
 * Writes a zip the way Python's zipfile lays out a BentoML export (no `./` prefix, no root entry,
 * stored directory entries with a trailing `/`, deflated files), streaming: every file gets a local
 * header with sizes left open (flag bit 3), its body, and a data descriptor with the CRC-32 and
 * sizes. The central directory, kept in memory as compact records, follows the last entry.
 */
export async function* writeZip(entries: AsyncIterable<ArchiveEntry>, settings: ZipWriterSettings): AsyncGenerator<Buffer> {
  const written: WrittenEntry[] = [];
  let offset = 0;
  const emit = (chunk: Buffer): Buffer => {
    offset += chunk.length;
    return chunk;
  };

  for await (const entry of entries) {
    throwIfAborted(settings.signal, 'format-zip', 'write', 'zip');
    if (entry.type !== 'file' && entry.type !== 'directory') {
      throw zipFailure(
        'write',
        'ERR_UNSUPPORTED_FORMAT',
        `cannot store ${entry.type} entry "${entry.path}" (zip as written here holds only files and directories; links must be dereferenced first)`,
        { details: { path: entry.path, type: entry.type } },
      );
    }
    const isDirectory = entry.type === 'directory';
    const { bytes: name, utf8Flag } = encodeEntryName(isDirectory ? `${entry.path}/` : entry.path);
    if (name.length > 0xffff) {
      throw zipFailure('write', 'ERR_UNSUPPORTED_FORMAT', `entry name is longer than 65535 bytes: "${entry.path.slice(0, 80)}…"`);
    }
    const { date: dosDate, time: dosTime } = toDosDateTime(entry.mtime);
    const localHeaderOffset = offset;
    const timestamp = extendedTimestampExtra(entry.mtime);

    if (isDirectory) {
      // Nothing follows a directory header, so its CRC and sizes (all 0) go straight in; no descriptor.
      yield emit(
        localHeader({ versionNeeded: VERSION_DEFAULT, flags: utf8Flag, method: METHOD_STORED, dosDate, dosTime, crc32: 0, compressedSize: 0, size: 0, name, extra: timestamp }),
      );
      written.push({
        name: detachedCopy(name), flags: utf8Flag, method: METHOD_STORED, dosDate, dosTime, crc32: 0, compressedSize: 0, size: 0, mtime: entry.mtime,
        externalAttributes: unixAttributes(S_IFDIR, entry.mode) + DOS_DIRECTORY_ATTRIBUTE, localHeaderOffset, localZip64: false,
      });
      continue;
    }

    if (!Number.isSafeInteger(entry.size) || entry.size < 0) throw new TypeError(`${OPERATION}: entry "${entry.path}" has an invalid size ${entry.size}`);
    const totals = { crc32: 0, size: 0 };
    let body: AsyncIterable<Buffer> = checkedBody(entry, settings.signal, totals);
    let sampled: CompressibilityClass = 'compressible';
    if (settings.compression === 'auto' && entry.size >= CLASSIFY_MIN_BYTES) {
      const peeked = await sampleBody(body);
      sampled = classifySample(peeked.sample);
      body = peeked.body;
    }
    const { method, level, strategy } = entrySetting(settings.compression, sampled);
    // The local header goes out before the body, so Zip64 is decided from the worst case up front.
    const largestCompressed = method === METHOD_STORED ? entry.size : deflateBound(entry.size, settings.pieceSize);
    const localZip64 = Math.max(entry.size, largestCompressed) >= ZIP64_MARKER_32;
    const flags = FLAG_DATA_DESCRIPTOR | utf8Flag;
    yield emit(
      localHeader({
        versionNeeded: localZip64 ? VERSION_ZIP64 : VERSION_DEFAULT,
        flags, method, dosDate, dosTime,
        crc32: 0,
        // With bit 3 the real values follow in the descriptor; Zip64 entries point at a zeroed extra field.
        compressedSize: localZip64 ? ZIP64_MARKER_32 : 0,
        size: localZip64 ? ZIP64_MARKER_32 : 0,
        name,
        extra: localZip64 ? Buffer.concat([zip64Extra([0, 0]), timestamp]) : timestamp,
      }),
    );

    const compressedChunks =
      method === METHOD_STORED
        ? body
        : deflatePieces(cutPieces(body, settings.pieceSize), {
            level,
            ...(strategy === undefined ? {} : { strategy }),
            pieceSize: settings.pieceSize,
            concurrency: settings.concurrency,
          });
    let compressedSize = 0;
    for await (const chunk of compressedChunks) {
      compressedSize += chunk.length;
      yield emit(chunk);
    }
    if (!localZip64 && compressedSize >= ZIP64_MARKER_32) {
      // Cannot happen while deflateBound holds; refuse rather than write sizes that wrap around.
      throw zipFailure('write', 'ERR_IO', `entry "${entry.path}" compressed beyond the size decided for its header`);
    }
    yield emit(dataDescriptor(totals.crc32, compressedSize, entry.size, localZip64));
    written.push({
      name: detachedCopy(name), flags, method, dosDate, dosTime, crc32: totals.crc32, compressedSize, size: entry.size, mtime: entry.mtime,
      externalAttributes: unixAttributes(S_IFREG, entry.mode), localHeaderOffset, localZip64,
    });
  }
  throwIfAborted(settings.signal, 'format-zip', 'write', 'zip');

  const centralDirectoryOffset = offset;
  let batch: Buffer[] = [];
  let batchLength = 0;
  for (const entry of written) {
    const record = centralRecord(entry);
    batch.push(record);
    batchLength += record.length;
    if (batchLength >= CENTRAL_BATCH_SIZE) {
      yield emit(Buffer.concat(batch, batchLength));
      batch = [];
      batchLength = 0;
    }
  }
  if (batchLength > 0) yield emit(Buffer.concat(batch, batchLength));
  yield emit(
    endOfCentralDirectory({
      entryCount: written.length,
      centralDirectorySize: offset - centralDirectoryOffset,
      centralDirectoryOffset,
    }),
  );
}
