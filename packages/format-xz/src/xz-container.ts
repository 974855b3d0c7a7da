import { crc32 } from 'node:zlib';

/**
 * The xz container (https://tukaani.org/xz/xz-file-format.txt), written by hand so that blocks
 * compressed independently, on several cores, land in ONE stream under one index: Python's
 * `tarfile.open(mode='r|xz')` stops after the first stream of a file.
 *
 * Every block uses the check type CRC32 (id 1), computed over the block's uncompressed bytes
 * with Node's zlib; every reader of xz supports it (BentoML's Python writes CRC64, xz's default).
 */

export const STREAM_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
export const FOOTER_MAGIC = Buffer.from([0x59, 0x5a]);
/** The check type this encoder writes: CRC32 (id 1). */
export const CHECK_CRC32 = 1;
/** Stream flags: a zero byte, then the check type. */
const streamFlags = (checkType: number): Buffer => Buffer.from([0x00, checkType]);
/** CRC32 is 4 bytes in a block's check field. */
export const CHECK_SIZE = 4;
export const LZMA2_FILTER_ID = 0x21;

/** What the index must know about each block. */
export interface BlockRecord {
  /** Block header + compressed data + check, without the block padding. */
  unpaddedSize: number;
  uncompressedSize: number;
}

/** An encoded block: its bytes (header, data, padding, check) and its index record. */
export interface EncodedBlock {
  bytes: Buffer[];
  record: BlockRecord;
}

export function streamHeader(checkType = CHECK_CRC32): Buffer {
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32(streamFlags(checkType)) >>> 0);
  return Buffer.concat([STREAM_MAGIC, streamFlags(checkType), crc]);
}

/** xz's variable-length integer: 7 bits a byte, low bits first, high bit = more follows. */
export function encodeVli(value: number): Buffer {
  if (!(Number.isSafeInteger(value) && value >= 0)) throw new RangeError(`VLI out of range: ${value}`);
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/**
 * LZMA2's dictionary-size property byte for the smallest encodable size at least `dictionarySize`
 * (sizes are 2^n or 3·2^(n-1), from 4 KiB).
 */
export function dictionaryProperty(dictionarySize: number): { property: number; size: number } {
  for (let property = 0; property <= 40; property++) {
    const size = (2 | (property & 1)) * 2 ** (Math.floor(property / 2) + 11);
    if (size >= dictionarySize) return { property, size };
  }
  return { property: 40, size: 0xffff_ffff };
}

/**
 * A whole block around LZMA2 data: the header (sizes included, so xz's threaded decoder can
 * split the work), the data, zero padding to 4 bytes, and the CRC32 of the uncompressed bytes.
 */
export function encodeBlock(lzma2: Buffer[], uncompressed: Buffer, dictionaryPropertyByte: number): EncodedBlock {
  const compressedSize = lzma2.reduce((sum, part) => sum + part.length, 0);
  const fields = Buffer.concat([
    // Block flags: one filter (bits 0-1 = 0), compressed size (0x40) and uncompressed size (0x80) present.
    Buffer.from([0xc0]),
    encodeVli(compressedSize),
    encodeVli(uncompressed.length),
    encodeVli(LZMA2_FILTER_ID),
    encodeVli(1),
    Buffer.from([dictionaryPropertyByte]),
  ]);
  // The size byte, the fields and the CRC32, padded with zeros to a multiple of 4.
  const headerSize = Math.ceil((1 + fields.length + 4) / 4) * 4;
  const header = Buffer.alloc(headerSize);
  header[0] = headerSize / 4 - 1;
  fields.copy(header, 1);
  header.writeUInt32LE(crc32(header.subarray(0, headerSize - 4)) >>> 0, headerSize - 4);

  const paddingSize = (4 - (compressedSize % 4)) % 4;
  const check = Buffer.alloc(paddingSize + CHECK_SIZE);
  check.writeUInt32LE(crc32(uncompressed) >>> 0, paddingSize);
  return {
    bytes: [header, ...lzma2, check],
    record: { unpaddedSize: headerSize + compressedSize + CHECK_SIZE, uncompressedSize: uncompressed.length },
  };
}

/** The index over every block of the stream, then the stream footer. */
export function indexAndFooter(records: readonly BlockRecord[], checkType = CHECK_CRC32): Buffer {
  const parts: Buffer[] = [Buffer.from([0x00]), encodeVli(records.length)];
  for (const record of records) parts.push(encodeVli(record.unpaddedSize), encodeVli(record.uncompressedSize));
  const unpadded = Buffer.concat(parts);
  const indexSize = Math.ceil(unpadded.length / 4) * 4 + 4;
  const index = Buffer.alloc(indexSize);
  unpadded.copy(index);
  index.writeUInt32LE(crc32(index.subarray(0, indexSize - 4)) >>> 0, indexSize - 4);

  const footer = Buffer.alloc(12);
  footer.writeUInt32LE(indexSize / 4 - 1, 4);
  streamFlags(checkType).copy(footer, 8);
  footer.writeUInt32LE(crc32(footer.subarray(4, 10)) >>> 0, 0);
  FOOTER_MAGIC.copy(footer, 10);
  return Buffer.concat([index, footer]);
}

/** LZMA2 chunks hold at most 64 KiB of uncompressed data. */
const MAX_UNCOMPRESSED_CHUNK = 65_536;

/**
 * `bytes` as LZMA2 uncompressed chunks: control `0x01` (dictionary reset, required first in a
 * block) or `0x02`, the size − 1 as 16-bit big-endian, the bytes; then `0x00` to end the data.
 * Pure copying: this is how `store` writes a valid xz at disk speed.
 */
export function storedLzma2(bytes: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  for (let start = 0; start < bytes.length; start += MAX_UNCOMPRESSED_CHUNK) {
    const length = Math.min(MAX_UNCOMPRESSED_CHUNK, bytes.length - start);
    const control = Buffer.alloc(3);
    control[0] = start === 0 ? 0x01 : 0x02;
    control.writeUInt16BE(length - 1, 1);
    parts.push(control, bytes.subarray(start, start + length));
  }
  parts.push(Buffer.from([0x00]));
  return parts;
}
