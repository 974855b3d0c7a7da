/**
 * The fixed-layout records of a zip file (PKWARE APPNOTE 6.3.x): local file header, data
 * descriptor, central directory header, Zip64 end of central directory record and locator, end of
 * central directory record, and the two extra fields we write (Zip64 0x0001, extended timestamp
 * 0x5455). All integers are little-endian.
 */

export const LOCAL_HEADER_SIGNATURE = 0x04034b50;
export const DATA_DESCRIPTOR_SIGNATURE = 0x08074b50;
export const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
export const ZIP64_END_SIGNATURE = 0x06064b50;
export const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
export const END_SIGNATURE = 0x06054b50;

export const LOCAL_HEADER_LENGTH = 30;
export const CENTRAL_HEADER_LENGTH = 46;
export const ZIP64_END_LENGTH = 56;
export const ZIP64_LOCATOR_LENGTH = 20;
export const END_LENGTH = 22;
/** The end record may be followed by a comment of up to 65535 bytes. */
export const MAX_COMMENT_LENGTH = 0xffff;

/** A 32-bit field holding this value means "the real value is in the Zip64 extra field". */
export const ZIP64_MARKER_32 = 0xffffffff;
/** A 16-bit entry count holding this value means "the real count is in the Zip64 end record". */
export const ZIP64_MARKER_16 = 0xffff;

export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;

/** General purpose flag bits. */
export const FLAG_ENCRYPTED = 0x0001;
export const FLAG_DATA_DESCRIPTOR = 0x0008;
export const FLAG_STRONG_ENCRYPTION = 0x0040;
export const FLAG_UTF8 = 0x0800;

/** "Version needed to extract": 2.0 for deflate and directories, 4.5 for Zip64. */
export const VERSION_DEFAULT = 20;
export const VERSION_ZIP64 = 45;
/** The upper byte of "version made by": 3 = Unix, which tells readers the attributes hold st_mode. */
export const HOST_UNIX = 3;
/** macOS (Darwin) writers also store st_mode in the upper attribute bits. */
export const HOST_DARWIN = 19;

export const EXTRA_ZIP64 = 0x0001;
export const EXTRA_EXTENDED_TIMESTAMP = 0x5455;

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;
/** The MS-DOS directory attribute, in the low byte of the external attributes. */
export const DOS_DIRECTORY_ATTRIBUTE = 0x10;

/** Writes a number that may exceed 2^32 (JavaScript numbers are exact up to 2^53). */
function writeUInt64(buffer: Buffer, value: number, offset: number): void {
  buffer.writeBigUInt64LE(BigInt(value), offset);
}

/** Reads a 64-bit size or offset, refusing values a JavaScript number cannot hold exactly. */
export function readUInt64(buffer: Buffer, offset: number): number {
  const value = buffer.readBigUInt64LE(offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) return Number.POSITIVE_INFINITY;
  return Number(value);
}

/** Seconds since the epoch as an MS-DOS date and time, in UTC so that every time zone writes the same bytes. */
export function toDosDateTime(mtimeSeconds: number): { date: number; time: number } {
  const milliseconds = Number.isFinite(mtimeSeconds) ? Math.floor(mtimeSeconds) * 1000 : 0;
  const moment = new Date(milliseconds);
  const year = moment.getUTCFullYear();
  // MS-DOS dates cover 1980..2107; clamp rather than wrap around.
  if (year < 1980) return { date: (1 << 5) | 1, time: 0 };
  if (year > 2107) return { date: (127 << 9) | (12 << 5) | 31, time: (23 << 11) | (59 << 5) | 29 };
  const date = ((year - 1980) << 9) | ((moment.getUTCMonth() + 1) << 5) | moment.getUTCDate();
  const time = (moment.getUTCHours() << 11) | (moment.getUTCMinutes() << 5) | (moment.getUTCSeconds() >> 1);
  return { date, time };
}

/** An MS-DOS date and time read as UTC (zip stores no zone; we write UTC, so we read UTC). */
export function fromDosDateTime(date: number, time: number): number {
  const year = 1980 + (date >> 9);
  const month = Math.max(1, Math.min(12, (date >> 5) & 0x0f));
  const day = Math.max(1, date & 0x1f);
  const milliseconds = Date.UTC(year, month - 1, day, time >> 11, (time >> 5) & 0x3f, (time & 0x1f) * 2);
  return milliseconds / 1000;
}

/** Unix seconds clamped to the signed 32-bit range of the extended timestamp field. */
export function toUnixTime32(mtimeSeconds: number): number {
  if (!Number.isFinite(mtimeSeconds)) return 0;
  return Math.max(-0x80000000, Math.min(0x7fffffff, Math.floor(mtimeSeconds)));
}

/** Extended timestamp extra field (0x5455) carrying only the modification time. */
export function extendedTimestampExtra(mtimeSeconds: number): Buffer {
  const extra = Buffer.alloc(9);
  extra.writeUInt16LE(EXTRA_EXTENDED_TIMESTAMP, 0);
  extra.writeUInt16LE(5, 2);
  extra.writeUInt8(1, 4); // bit 0: modification time present
  extra.writeInt32LE(toUnixTime32(mtimeSeconds), 5);
  return extra;
}

/** Zip64 extra field (0x0001) holding the given 64-bit values, in APPNOTE order. */
export function zip64Extra(values: readonly number[]): Buffer {
  const extra = Buffer.alloc(4 + 8 * values.length);
  extra.writeUInt16LE(EXTRA_ZIP64, 0);
  extra.writeUInt16LE(8 * values.length, 2);
  values.forEach((value, index) => writeUInt64(extra, value, 4 + 8 * index));
  return extra;
}

export interface LocalHeaderFields {
  versionNeeded: number;
  flags: number;
  method: number;
  dosDate: number;
  dosTime: number;
  crc32: number;
  compressedSize: number;
  size: number;
  name: Buffer;
  extra: Buffer;
}

export function localHeader(fields: LocalHeaderFields): Buffer {
  const header = Buffer.alloc(LOCAL_HEADER_LENGTH);
  header.writeUInt32LE(LOCAL_HEADER_SIGNATURE, 0);
  header.writeUInt16LE(fields.versionNeeded, 4);
  header.writeUInt16LE(fields.flags, 6);
  header.writeUInt16LE(fields.method, 8);
  header.writeUInt16LE(fields.dosTime, 10);
  header.writeUInt16LE(fields.dosDate, 12);
  header.writeUInt32LE(fields.crc32, 14);
  header.writeUInt32LE(fields.compressedSize, 18);
  header.writeUInt32LE(fields.size, 22);
  header.writeUInt16LE(fields.name.length, 26);
  header.writeUInt16LE(fields.extra.length, 28);
  return Buffer.concat([header, fields.name, fields.extra]);
}

/** Data descriptor with its (optional but customary) signature; 8-byte sizes for Zip64 entries. */
export function dataDescriptor(crc32: number, compressedSize: number, size: number, zip64: boolean): Buffer {
  const descriptor = Buffer.alloc(zip64 ? 24 : 16);
  descriptor.writeUInt32LE(DATA_DESCRIPTOR_SIGNATURE, 0);
  descriptor.writeUInt32LE(crc32, 4);
  if (zip64) {
    writeUInt64(descriptor, compressedSize, 8);
    writeUInt64(descriptor, size, 16);
  } else {
    descriptor.writeUInt32LE(compressedSize, 8);
    descriptor.writeUInt32LE(size, 12);
  }
  return descriptor;
}

export interface CentralHeaderFields extends LocalHeaderFields {
  versionMadeBy: number;
  externalAttributes: number;
  localHeaderOffset: number;
}

export function centralHeader(fields: CentralHeaderFields): Buffer {
  const header = Buffer.alloc(CENTRAL_HEADER_LENGTH);
  header.writeUInt32LE(CENTRAL_HEADER_SIGNATURE, 0);
  header.writeUInt16LE(fields.versionMadeBy, 4);
  header.writeUInt16LE(fields.versionNeeded, 6);
  header.writeUInt16LE(fields.flags, 8);
  header.writeUInt16LE(fields.method, 10);
  header.writeUInt16LE(fields.dosTime, 12);
  header.writeUInt16LE(fields.dosDate, 14);
  header.writeUInt32LE(fields.crc32, 16);
  header.writeUInt32LE(fields.compressedSize, 20);
  header.writeUInt32LE(fields.size, 24);
  header.writeUInt16LE(fields.name.length, 28);
  header.writeUInt16LE(fields.extra.length, 30);
  header.writeUInt16LE(0, 32); // comment length
  header.writeUInt16LE(0, 34); // disk number start
  header.writeUInt16LE(0, 36); // internal attributes
  header.writeUInt32LE(fields.externalAttributes, 38);
  header.writeUInt32LE(fields.localHeaderOffset, 42);
  return Buffer.concat([header, fields.name, fields.extra]);
}

export interface EndOfCentralDirectory {
  entryCount: number;
  centralDirectorySize: number;
  centralDirectoryOffset: number;
}

/**
 * The end of the archive: the Zip64 end record and locator when a count, size or offset does not
 * fit the classic end record, then the classic end record (with 0xFFFF/0xFFFFFFFF in the fields
 * that overflow, as APPNOTE 4.4.1.4 asks).
 */
export function endOfCentralDirectory(end: EndOfCentralDirectory): Buffer {
  const needsZip64 =
    end.entryCount >= ZIP64_MARKER_16 ||
    end.centralDirectorySize >= ZIP64_MARKER_32 ||
    end.centralDirectoryOffset >= ZIP64_MARKER_32;
  const parts: Buffer[] = [];
  if (needsZip64) {
    const zip64EndOffset = end.centralDirectoryOffset + end.centralDirectorySize;
    const record = Buffer.alloc(ZIP64_END_LENGTH);
    record.writeUInt32LE(ZIP64_END_SIGNATURE, 0);
    writeUInt64(record, ZIP64_END_LENGTH - 12, 4); // size of the rest of the record
    record.writeUInt16LE((HOST_UNIX << 8) | VERSION_ZIP64, 12);
    record.writeUInt16LE(VERSION_ZIP64, 14);
    record.writeUInt32LE(0, 16); // this disk
    record.writeUInt32LE(0, 20); // disk with the central directory
    writeUInt64(record, end.entryCount, 24);
    writeUInt64(record, end.entryCount, 32);
    writeUInt64(record, end.centralDirectorySize, 40);
    writeUInt64(record, end.centralDirectoryOffset, 48);
    const locator = Buffer.alloc(ZIP64_LOCATOR_LENGTH);
    locator.writeUInt32LE(ZIP64_LOCATOR_SIGNATURE, 0);
    locator.writeUInt32LE(0, 4); // disk with the Zip64 end record
    writeUInt64(locator, zip64EndOffset, 8);
    locator.writeUInt32LE(1, 16); // total number of disks
    parts.push(record, locator);
  }
  const record = Buffer.alloc(END_LENGTH);
  record.writeUInt32LE(END_SIGNATURE, 0);
  record.writeUInt16LE(0, 4);
  record.writeUInt16LE(0, 6);
  record.writeUInt16LE(Math.min(end.entryCount, ZIP64_MARKER_16), 8);
  record.writeUInt16LE(Math.min(end.entryCount, ZIP64_MARKER_16), 10);
  record.writeUInt32LE(Math.min(end.centralDirectorySize, ZIP64_MARKER_32), 12);
  record.writeUInt32LE(Math.min(end.centralDirectoryOffset, ZIP64_MARKER_32), 16);
  record.writeUInt16LE(0, 20); // comment length
  parts.push(record);
  return Buffer.concat(parts);
}
