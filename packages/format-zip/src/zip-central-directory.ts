import { corrupt, zipFailure } from './zip-failures.js';
import { decodeEntryName } from './entry-names.js';
import type { RangeReader } from './range-cursor.js';
import { RangeCursor } from './range-cursor.js';
import {
  CENTRAL_HEADER_LENGTH,
  CENTRAL_HEADER_SIGNATURE,
  END_LENGTH,
  END_SIGNATURE,
  EXTRA_EXTENDED_TIMESTAMP,
  EXTRA_ZIP64,
  MAX_COMMENT_LENGTH,
  ZIP64_END_LENGTH,
  ZIP64_END_SIGNATURE,
  ZIP64_LOCATOR_LENGTH,
  ZIP64_LOCATOR_SIGNATURE,
  ZIP64_MARKER_16,
  ZIP64_MARKER_32,
  readUInt64,
} from './zip-records.js';

/**
 * Finding and parsing the central directory: the end record (searched for in the last 64 KiB +
 * 22 bytes, since a comment may follow it), the Zip64 locator and end record when present, then
 * the directory itself, read in bounded blocks.
 */

/** The central directory is read in blocks of this size, whatever its total size. */
const DIRECTORY_BLOCK_SIZE = 1024 * 1024;

/** One central directory header, with Zip64 values resolved. */
export interface CentralEntry {
  name: string;
  rawName: Buffer;
  versionMadeBy: number;
  flags: number;
  method: number;
  dosDate: number;
  dosTime: number;
  crc32: number;
  compressedSize: number;
  size: number;
  externalAttributes: number;
  /** Absolute position of the local header (already corrected for data prepended to the archive). */
  localHeaderOffset: number;
  /** Unix seconds from the extended timestamp extra field, when present. */
  unixMtime: number | undefined;
}

export interface CentralDirectory {
  entries: CentralEntry[];
  /** Absolute position of the first central directory byte: entry data ends before it. */
  start: number;
}


interface EndRecord {
  /** Where the classic end record starts. */
  position: number;
  entryCount: number;
  directorySize: number;
  directoryOffset: number;
  diskNumber: number;
  directoryDisk: number;
}

function findEndRecord(tail: Buffer, tailStart: number): EndRecord {
  let fallback: number | undefined;
  for (let index = tail.length - END_LENGTH; index >= 0; index -= 1) {
    if (tail.readUInt32LE(index) !== END_SIGNATURE) continue;
    const commentLength = tail.readUInt16LE(index + 20);
    const recordEnd = index + END_LENGTH + commentLength;
    // The true record is the one whose comment runs exactly to the end of the file; a looser match
    // (trailing junk after the comment) is accepted only when no exact one exists.
    if (recordEnd === tail.length) {
      fallback = index;
      break;
    }
    if (recordEnd < tail.length && fallback === undefined) fallback = index;
  }
  if (fallback === undefined) throw corrupt('no end of central directory record found; the file is truncated or not a zip');
  return {
    position: tailStart + fallback,
    diskNumber: tail.readUInt16LE(fallback + 4),
    directoryDisk: tail.readUInt16LE(fallback + 6),
    entryCount: tail.readUInt16LE(fallback + 10),
    directorySize: tail.readUInt32LE(fallback + 12),
    directoryOffset: tail.readUInt32LE(fallback + 16),
  };
}

interface Zip64EndRecord {
  position: number;
  entryCount: number;
  directorySize: number;
  directoryOffset: number;
}

/** Bytes at `position`, from the already-read tail when it holds them. */
type TailReader = (position: number, length: number) => Promise<Buffer>;

async function readZip64End(read: TailReader, locator: Buffer, locatorPosition: number, archiveSize: number): Promise<Zip64EndRecord> {
  const declared = readUInt64(locator, 8);
  // The locator's offset is wrong when bytes were prepended to the archive (self-extractors);
  // the record then normally sits right before the locator.
  const candidates = [declared, locatorPosition - ZIP64_END_LENGTH].filter(
    (position) => position >= 0 && position + ZIP64_END_LENGTH <= archiveSize,
  );
  for (const position of candidates) {
    const record = await read(position, ZIP64_END_LENGTH);
    if (record.readUInt32LE(0) !== ZIP64_END_SIGNATURE) continue;
    if (record.readUInt32LE(16) !== 0 || record.readUInt32LE(20) !== 0) {
      throw zipFailure('read', 'ERR_UNSUPPORTED_FORMAT', 'split (multi-disk) zip archives are not supported');
    }
    return {
      position,
      entryCount: readUInt64(record, 32),
      directorySize: readUInt64(record, 40),
      directoryOffset: readUInt64(record, 48),
    };
  }
  throw corrupt('the Zip64 end of central directory locator points at no Zip64 end record');
}

/** Fields that the Zip64 extra field may carry, in the order it carries them (APPNOTE 4.5.3). */
function parseExtras(extra: Buffer, entry: CentralEntry, diskStart: number): void {
  let position = 0;
  while (position + 4 <= extra.length) {
    const id = extra.readUInt16LE(position);
    const length = extra.readUInt16LE(position + 2);
    const data = extra.subarray(position + 4, position + 4 + length);
    // Some writers pad extra fields oddly; stop at an overrun instead of failing the whole archive.
    if (data.length < length) break;
    if (id === EXTRA_ZIP64) {
      let field = 0;
      const next = (): number => {
        if (field + 8 > data.length) throw corrupt(`entry "${entry.name}" has a Zip64 extra field that is too short`);
        const value = readUInt64(data, field);
        field += 8;
        return value;
      };
      if (entry.size === ZIP64_MARKER_32) entry.size = next();
      if (entry.compressedSize === ZIP64_MARKER_32) entry.compressedSize = next();
      if (entry.localHeaderOffset === ZIP64_MARKER_32) entry.localHeaderOffset = next();
      if (diskStart === ZIP64_MARKER_16 && field + 4 <= data.length) diskStart = data.readUInt32LE(field);
    } else if (id === EXTRA_EXTENDED_TIMESTAMP && length >= 5 && (data.readUInt8(0) & 1) !== 0) {
      entry.unixMtime = data.readInt32LE(1);
    }
    position += 4 + length;
  }
  if (diskStart !== 0) throw zipFailure('read', 'ERR_UNSUPPORTED_FORMAT', 'split (multi-disk) zip archives are not supported');
}

/** Parses complete central directory headers from `block`; returns how many bytes it used. */
function parseHeaders(block: Buffer, entries: CentralEntry[]): number {
  let position = 0;
  while (position + CENTRAL_HEADER_LENGTH <= block.length) {
    if (block.readUInt32LE(position) !== CENTRAL_HEADER_SIGNATURE) {
      throw corrupt(`central directory header ${entries.length + 1} has a bad signature`);
    }
    const nameLength = block.readUInt16LE(position + 28);
    const extraLength = block.readUInt16LE(position + 30);
    const commentLength = block.readUInt16LE(position + 32);
    const total = CENTRAL_HEADER_LENGTH + nameLength + extraLength + commentLength;
    if (position + total > block.length) break;
    const nameStart = position + CENTRAL_HEADER_LENGTH;
    const flags = block.readUInt16LE(position + 8);
    // Copy the name so the entry list does not keep whole directory blocks alive.
    const rawName = Buffer.from(block.subarray(nameStart, nameStart + nameLength));
    const entry: CentralEntry = {
      name: decodeEntryName(rawName, flags),
      rawName,
      versionMadeBy: block.readUInt16LE(position + 4),
      flags,
      method: block.readUInt16LE(position + 10),
      dosTime: block.readUInt16LE(position + 12),
      dosDate: block.readUInt16LE(position + 14),
      crc32: block.readUInt32LE(position + 16),
      compressedSize: block.readUInt32LE(position + 20),
      size: block.readUInt32LE(position + 24),
      externalAttributes: block.readUInt32LE(position + 38),
      localHeaderOffset: block.readUInt32LE(position + 42),
      unixMtime: undefined,
    };
    parseExtras(block.subarray(nameStart + nameLength, nameStart + nameLength + extraLength), entry, block.readUInt16LE(position + 34));
    entries.push(entry);
    position += total;
  }
  return position;
}

/** Locates and parses the central directory of an archive of `archiveSize` bytes. */
export async function readCentralDirectory(readRange: RangeReader, archiveSize: number, signal: AbortSignal | undefined): Promise<CentralDirectory> {
  if (archiveSize < END_LENGTH) throw corrupt(`${archiveSize} bytes is too short for a zip archive`);
  const tailLength = Math.min(archiveSize, END_LENGTH + MAX_COMMENT_LENGTH + ZIP64_LOCATOR_LENGTH);
  const tailStart = archiveSize - tailLength;
  const cursor = new RangeCursor(readRange, archiveSize, archiveSize, signal);
  try {
    const tail = await cursor.read(tailStart, tailLength);
    const end = findEndRecord(tail, tailStart);
    const read: TailReader = async (position, length) =>
      position >= tailStart ? tail.subarray(position - tailStart, position - tailStart + length) : cursor.read(position, length);
    if ((end.diskNumber !== 0 && end.diskNumber !== ZIP64_MARKER_16) || (end.directoryDisk !== 0 && end.directoryDisk !== ZIP64_MARKER_16)) {
      throw zipFailure('read', 'ERR_UNSUPPORTED_FORMAT', 'split (multi-disk) zip archives are not supported');
    }
    let { entryCount, directorySize, directoryOffset } = end;
    let directoryEnd = end.position;
    let zip64 = false;
    const locatorPosition = end.position - ZIP64_LOCATOR_LENGTH;
    if (locatorPosition >= 0) {
      // The tail read normally covers the locator too (it was sized for that); read it only if not.
      const locator = await read(locatorPosition, ZIP64_LOCATOR_LENGTH);
      if (locator.readUInt32LE(0) === ZIP64_LOCATOR_SIGNATURE) {
        const record = await readZip64End(read, locator, locatorPosition, archiveSize);
        ({ entryCount, directorySize, directoryOffset } = record);
        directoryEnd = record.position;
        zip64 = true;
      }
    }
    if (!Number.isSafeInteger(directorySize) || !Number.isSafeInteger(directoryOffset)) throw corrupt('the central directory size or offset is out of range');
    // Bytes prepended to the archive shift every offset by the same amount; Python's zipfile
    // accepts such archives, so we do too.
    const shift = directoryEnd - directorySize - directoryOffset;
    const start = directoryOffset + shift;
    if (shift < 0 || start < 0) throw corrupt(`the central directory (${directorySize} bytes at ${directoryOffset}) does not fit before its end record at ${directoryEnd}`);

    cursor.close();
    const directoryCursor = new RangeCursor(readRange, directoryEnd, archiveSize, signal);
    const entries: CentralEntry[] = [];
    try {
      let position = start;
      let pending: Buffer = Buffer.alloc(0);
      while (position < directoryEnd) {
        const length = Math.min(DIRECTORY_BLOCK_SIZE, directoryEnd - position);
        const block = await directoryCursor.read(position, length);
        position += length;
        const data = pending.length > 0 ? Buffer.concat([pending, block]) : block;
        const used = parseHeaders(data, entries);
        pending = data.subarray(used);
      }
      if (pending.length > 0) throw corrupt(`the central directory ends inside a header (${pending.length} stray bytes)`);
    } finally {
      directoryCursor.close();
    }
    const countMatches = zip64 ? entries.length === entryCount : entries.length % 0x10000 === entryCount % 0x10000;
    if (!countMatches) throw corrupt(`the central directory holds ${entries.length} entries but the end record says ${entryCount}`);
    for (const entry of entries) {
      if (!Number.isSafeInteger(entry.size) || !Number.isSafeInteger(entry.compressedSize)) throw corrupt(`entry "${entry.name}" has an impossible size`);
      entry.localHeaderOffset += shift;
      if (entry.localHeaderOffset + entry.compressedSize > start) throw corrupt(`entry "${entry.name}" lies outside the archive's data area`);
    }
    return { entries, start };
  } finally {
    cursor.close();
  }
}
