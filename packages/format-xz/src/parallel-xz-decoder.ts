import { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import lzma from 'lzma-native';
import { BentoportError } from '@bentoport/spec';
import { bufferGarbageCollector } from '@bentoport/plugin-kit';
import { FOOTER_MAGIC, indexAndFooter, LZMA2_FILTER_ID, STREAM_MAGIC, streamHeader, type BlockRecord } from './xz-container.js';

/** Options of {@link parallelXzDecoder}. */
export interface ParallelXzOptions {
  /** Blocks decoded at once. */
  concurrency: number;
  /** liblzma's memory limit, per decoder. */
  memoryLimit: number;
}

/** Bytes of the check field for each check type (0 none, 1 CRC32, 4 CRC64, 10 SHA-256, others reserved). */
const CHECK_SIZES = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];
/**
 * A block without a compressed size in its header, met after blocks that had one, is delimited
 * by walking its LZMA2 chunk headers and held whole: up to this many bytes.
 */
const MAX_UNSIZED_BLOCK = 64 * 1024 * 1024;

/**
 * Most bytes one piece of input handed to liblzma may decode to. liblzma (through lzma-native)
 * decodes a whole input chunk before the stream looks at backpressure, and 150 KiB of xz can
 * hold a GiB of zeros: input is cut at LZMA2 chunk boundaries (whose headers give their
 * decoded size) so that memory stays bounded whatever the compression ratio.
 */
const MAX_PIECE_OUTPUT = 8 * 1024 * 1024;
/** A sized block that decodes to more than this is decoded as a stream, not held whole in memory. */
const MAX_BUFFERED_BLOCK = 64 * 1024 * 1024;

function corrupt(message: string): BentoportError {
  return new BentoportError('ERR_CORRUPT_ARCHIVE', `[format-xz] ${message}`);
}

/** Reads exact byte counts from an async iterable of chunks. */
class ByteReader {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private exhausted = false;
  /** Bytes handed out so far (for messages). */
  offset = 0;

  constructor(private readonly iterator: AsyncIterator<Buffer>) {}

  private async fill(length: number): Promise<boolean> {
    while (this.buffered < length && !this.exhausted) {
      const step = await this.iterator.next();
      if (step.done === true) this.exhausted = true;
      else if (step.value.length > 0) {
        this.chunks.push(step.value);
        this.buffered += step.value.length;
      }
    }
    return this.buffered >= length;
  }

  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }

  async read(length: number, what: string): Promise<Buffer> {
    if (!(await this.fill(length))) throw corrupt(`the file ends inside ${what} (at byte ${this.offset + this.buffered})`);
    this.offset += length;
    this.buffered -= length;
    const first = this.chunks[0] as Buffer;
    if (first.length >= length) {
      if (first.length === length) this.chunks.shift();
      else this.chunks[0] = first.subarray(length);
      return first.subarray(0, length);
    }
    const out = Buffer.allocUnsafe(length);
    for (let filled = 0; filled < length; ) {
      const chunk = this.chunks[0] as Buffer;
      const take = Math.min(chunk.length, length - filled);
      chunk.copy(out, filled, 0, take);
      filled += take;
      if (take === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(take);
    }
    return out;
  }

  /** Copies the next `length` bytes into `target` at `offset`: one copy, where `read` may make two. */
  async readInto(target: Buffer, offset: number, length: number, what: string): Promise<void> {
    if (!(await this.fill(length))) throw corrupt(`the file ends inside ${what} (at byte ${this.offset + this.buffered})`);
    this.offset += length;
    this.buffered -= length;
    for (let filled = 0; filled < length; ) {
      const chunk = this.chunks[0] as Buffer;
      const take = Math.min(chunk.length, length - filled);
      chunk.copy(target, offset + filled, 0, take);
      filled += take;
      if (take === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(take);
    }
  }

  async peek(length: number): Promise<Buffer | undefined> {
    if (!(await this.fill(length))) return undefined;
    return this.head(length);
  }

  /** Up to `length` bytes from here without consuming them: fewer only at the end of the input. */
  async peekUpTo(length: number): Promise<Buffer> {
    await this.fill(length);
    return this.head(Math.min(length, this.buffered));
  }

  private head(length: number): Buffer {
    const first = this.chunks[0];
    if (first !== undefined && first.length >= length) return first.subarray(0, length);
    const needed: Buffer[] = [];
    for (let gathered = 0, index = 0; gathered < length; index++) {
      const chunk = this.chunks[index] as Buffer;
      needed.push(chunk);
      gathered += chunk.length;
    }
    return Buffer.concat(needed).subarray(0, length);
  }

  /** What is buffered and everything after it, for a decoder that takes over the input. */
  async *rest(): AsyncGenerator<Buffer> {
    yield* this.chunks.splice(0);
    this.buffered = 0;
    for (let step = await this.iterator.next(); step.done !== true; step = await this.iterator.next()) yield step.value;
  }
}

/** Parses an xz VLI from `bytes` at `position`; returns the value and the next position. */
function parseVli(bytes: Buffer, position: number, what: string): [number, number] {
  let value = 0;
  for (let index = 0; index < 9; index++) {
    const byte = bytes[position + index];
    if (byte === undefined) throw corrupt(`${what} is cut short`);
    value += (byte & 0x7f) * 2 ** (7 * index);
    if ((byte & 0x80) === 0) {
      if (byte === 0 && index > 0) throw corrupt(`${what} is not minimally encoded`);
      return [value, position + index + 1];
    }
  }
  throw corrupt(`${what} is too long`);
}

async function readVli(reader: ByteReader, what: string, seen: number[]): Promise<number> {
  const bytes: number[] = [];
  for (;;) {
    const byte = (await reader.read(1, what))[0] as number;
    bytes.push(byte);
    seen.push(byte);
    if ((byte & 0x80) === 0) return parseVli(Buffer.from(bytes), 0, what)[0];
    if (bytes.length >= 9) throw corrupt(`${what} is too long`);
  }
}

interface StreamHeader {
  checkType: number;
  flags: Buffer;
}

function parseStreamHeader(header: Buffer): StreamHeader {
  if (!header.subarray(0, 6).equals(STREAM_MAGIC)) throw corrupt('not an xz stream (bad magic bytes)');
  const flags = header.subarray(6, 8);
  if (crc32(flags) >>> 0 !== header.readUInt32LE(8)) throw corrupt('the stream header is damaged (CRC32 mismatch)');
  if (flags[0] !== 0 || ((flags[1] as number) & 0xf0) !== 0) throw corrupt('the stream header uses flags this decoder does not know');
  return { checkType: (flags[1] as number) & 0x0f, flags };
}

interface BlockHeader {
  bytes: Buffer;
  compressedSize: number | undefined;
  uncompressedSize: number | undefined;
  /** Only LZMA2, the filter chain xz, Python and BentoML write. */
  lzma2Only: boolean;
}

function parseBlockHeader(bytes: Buffer): BlockHeader {
  const size = bytes.length;
  if (crc32(bytes.subarray(0, size - 4)) >>> 0 !== bytes.readUInt32LE(size - 4)) throw corrupt('a block header is damaged (CRC32 mismatch)');
  const flags = bytes[1] as number;
  if ((flags & 0x3c) !== 0) throw corrupt('a block header uses flags this decoder does not know');
  let position = 2;
  let compressedSize: number | undefined;
  let uncompressedSize: number | undefined;
  if ((flags & 0x40) !== 0) [compressedSize, position] = parseVli(bytes, position, 'a block’s compressed size');
  if ((flags & 0x80) !== 0) [uncompressedSize, position] = parseVli(bytes, position, 'a block’s uncompressed size');
  const filters = (flags & 0x03) + 1;
  let lzma2Only = filters === 1;
  for (let filter = 0; filter < filters; filter++) {
    let id: number;
    let propertiesSize: number;
    [id, position] = parseVli(bytes, position, 'a filter id');
    [propertiesSize, position] = parseVli(bytes, position, 'a filter’s properties size');
    if (id !== LZMA2_FILTER_ID || propertiesSize !== 1) lzma2Only = false;
    position += propertiesSize;
  }
  if (position > size - 4) throw corrupt('a block header is shorter than its filters');
  return { bytes, compressedSize, uncompressedSize, lzma2Only };
}

/**
 * Walks LZMA2 chunk headers (no decoding) from the start of `data`: where the LZMA2 data ends
 * (after its 0x00 end marker) and how many bytes it decodes to; undefined if `data` stops first.
 */
function walkLzma2(data: Buffer): { compressedSize: number; uncompressedSize: number } | undefined {
  let position = 0;
  let uncompressed = 0;
  while (position < data.length) {
    const control = data[position] as number;
    if (control === 0x00) return { compressedSize: position + 1, uncompressedSize: uncompressed };
    if (control === 0x01 || control === 0x02) {
      if (position + 3 > data.length) return undefined;
      const size = data.readUInt16BE(position + 1) + 1;
      uncompressed += size;
      position += 3 + size;
    } else if (control >= 0x80) {
      const headerSize = control >= 0xc0 ? 6 : 5; // a properties byte follows on a state reset with new properties
      if (position + headerSize > data.length) return undefined;
      uncompressed += (control & 0x1f) * 65_536 + data.readUInt16BE(position + 1) + 1;
      position += headerSize + data.readUInt16BE(position + 3) + 1;
    } else {
      throw corrupt(`a block holds an invalid LZMA2 control byte 0x${control.toString(16)}`);
    }
  }
  return undefined;
}

/**
 * Decodes one self-contained xz stream (one block) on liblzma's thread; all of its output.
 * Through lzma-native's Transform, not `codeWhole`: the binding queues all of one call's output
 * in native memory before JavaScript gets any of it, and with a whole block per call a `.bento`
 * import peaked 15-20 MiB higher; the Transform hands liblzma the block in smaller cuts.
 */
function decodeStream(stream: Buffer, memoryLimit: number): { output: Promise<Buffer[]>; cancel: () => void } {
  const decoder = lzma.createStream('streamDecoder', { memlimit: memoryLimit, synchronous: false });
  const output = new Promise<Buffer[]>((resolve, reject) => {
    const chunks: Buffer[] = [];
    decoder.on('data', (chunk: Buffer) => chunks.push(chunk));
    decoder.on('error', (error: Error) => reject(corrupt(`a block does not decode: ${error.message}`)));
    decoder.on('end', () => resolve(chunks));
  });
  output.catch(() => undefined); // awaited in order by the caller; this only avoids an early unhandled rejection
  decoder.end(stream);
  return { output, cancel: () => decoder.destroy() };
}

/** The decompressed bytes of `input`: any number of xz streams, blocks split across threads where possible. */
async function* decodeXz(input: AsyncIterable<Buffer>, options: ParallelXzOptions): AsyncGenerator<Buffer> {
  const reader = new ByteReader(input[Symbol.asyncIterator]());
  const header = parseStreamHeader(await reader.read(12, 'the stream header'));
  const first = await reader.peek(1);
  if (first === undefined) throw corrupt('the file ends after the stream header');
  let firstBlock: BlockHeader | undefined;
  if (first[0] !== 0x00) {
    const bytes = await reader.peek(((first[0] as number) + 1) * 4);
    if (bytes === undefined) throw corrupt('the file ends inside the first block header');
    firstBlock = parseBlockHeader(bytes);
  }
  if (firstBlock !== undefined && (firstBlock.compressedSize === undefined || !firstBlock.lzma2Only)) {
    // Nothing to split: liblzma's own decoder takes the whole input, header included, in
    // pieces of bounded decoded size.
    yield* streamingDecode(boundedPieces(reader, header), options.memoryLimit);
    return;
  }

  const queue: { output: Promise<Buffer[]>; cancel: () => void }[] = [];
  try {
    let stream: StreamHeader | undefined = header;
    while (stream !== undefined) {
      const checkSize = CHECK_SIZES[stream.checkType] as number;
      const records: BlockRecord[] = [];
      for (;;) {
        const sizeByte = await reader.read(1, 'a block header');
        if (sizeByte[0] === 0x00) break; // the index
        const block = parseBlockHeader(Buffer.concat([sizeByte, await reader.read((sizeByte[0] as number) * 4 + 3, 'a block header')]));
        if (!block.lzma2Only) throw new BentoportError('ERR_UNSUPPORTED_FORMAT', '[format-xz] a block after the first uses filters other than LZMA2 alone; this decoder takes such filters only in the first block of a file');
        const { single, record } = await singleBlockStream(reader, block, stream, checkSize);
        records.push(record);
        if (record.uncompressedSize > MAX_BUFFERED_BLOCK) {
          // Held whole, a bomb's block would cost its full decoded size per thread.
          while (queue.length > 0) yield* await (queue.shift() as (typeof queue)[number]).output;
          yield* streamingDecode(boundedPieces(new ByteReader(onceIterator(single.subarray(12))), stream), options.memoryLimit);
          continue;
        }
        queue.push(decodeStream(single, options.memoryLimit));
        // One block more than the decoding threads: one is handed on while the others decode.
        while (queue.length > options.concurrency) yield* await (queue.shift() as (typeof queue)[number]).output;
      }
      await readIndexAndFooter(reader, records, stream);
      stream = await nextStream(reader);
    }
    while (queue.length > 0) yield* await (queue.shift() as (typeof queue)[number]).output;
  } finally {
    for (const job of queue.splice(0)) job.cancel();
  }
}

/** The most bytes an index of one record, its padding and CRC32, and a stream footer take. */
const MAX_SINGLE_INDEX_AND_FOOTER = 1 + 1 + 9 + 9 + 3 + 4 + 12;

/**
 * The block whose header `block` was just read, made a one-block xz stream of its own (stream
 * header, the block, an index of one record, footer) in one buffer: the block's bytes are copied
 * from the input once, straight into place. Checks that the LZMA2 data ends where the header
 * says, the decoded size, and the padding.
 */
async function singleBlockStream(reader: ByteReader, block: BlockHeader, stream: StreamHeader, checkSize: number): Promise<{ single: Buffer; record: BlockRecord }> {
  const header = streamHeader(stream.checkType);
  let single: Buffer;
  const dataStart = header.length + block.bytes.length;
  let data: Buffer;
  if (block.compressedSize !== undefined) {
    const padded = block.compressedSize + ((4 - (block.compressedSize % 4)) % 4);
    single = Buffer.allocUnsafe(dataStart + padded + checkSize + MAX_SINGLE_INDEX_AND_FOOTER);
    await reader.readInto(single, dataStart, block.compressedSize, 'a block');
    data = single.subarray(dataStart, dataStart + block.compressedSize);
  } else {
    data = await readUnsizedBlock(reader);
    single = Buffer.allocUnsafe(dataStart + data.length + 3 + checkSize + MAX_SINGLE_INDEX_AND_FOOTER);
    data.copy(single, dataStart);
    data = single.subarray(dataStart, dataStart + data.length);
  }
  header.copy(single, 0);
  block.bytes.copy(single, header.length);
  const walked = walkLzma2(data);
  if (walked === undefined || walked.compressedSize !== data.length) throw corrupt('a block’s LZMA2 data does not end where its header says');
  if (block.uncompressedSize !== undefined && block.uncompressedSize !== walked.uncompressedSize) {
    throw corrupt('a block decodes to another size than its header says');
  }
  let position = dataStart + data.length;
  const paddingLength = (4 - (data.length % 4)) % 4;
  await reader.readInto(single, position, paddingLength + checkSize, 'a block’s padding');
  if (single.subarray(position, position + paddingLength).some((byte) => byte !== 0)) throw corrupt('a block’s padding is not zero');
  position += paddingLength + checkSize;
  const record = { unpaddedSize: block.bytes.length + data.length + checkSize, uncompressedSize: walked.uncompressedSize };
  position += indexAndFooter([record], stream.checkType).copy(single, position);
  return { single: single.subarray(0, position), record };
}

/** liblzma's stream decoder over `pieces`, its output read with backpressure. */
async function* streamingDecode(pieces: AsyncIterable<Buffer>, memoryLimit: number): AsyncGenerator<Buffer> {
  const decoder = lzma.createStream('streamDecoder', { flags: lzma.CONCATENATED, memlimit: memoryLimit, synchronous: false });
  const feeding = pipeline(Readable.from(pieces), decoder);
  feeding.catch(() => undefined);
  try {
    for await (const chunk of decoder as AsyncIterable<Buffer>) yield chunk;
    await feeding;
  } catch (error) {
    throw error instanceof BentoportError ? error : corrupt((error as Error).message);
  } finally {
    decoder.destroy();
  }
}

/**
 * The xz file `input` cut into the pieces liblzma is fed: each decodes to at most 8 MiB, however
 * high the compression ratio. For tests; the decoder cuts the same way.
 */
export async function* piecesForLiblzma(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const reader = new ByteReader(input[Symbol.asyncIterator]());
  yield* boundedPieces(reader, parseStreamHeader(await reader.read(12, 'the stream header')));
}

/** An iterator that yields `bytes` once. */
function onceIterator(bytes: Buffer): AsyncIterator<Buffer> {
  return (async function* () {
    yield bytes;
  })();
}

/**
 * The xz input after its first stream header (`first`), re-cut for liblzma: headers, indexes and
 * footers pass as they are, and each block's LZMA2 data in pieces that decode to at most
 * MAX_PIECE_OUTPUT bytes. Stream padding is dropped (it is optional). Bounded by the input.
 */
async function* boundedPieces(reader: ByteReader, first: StreamHeader): AsyncGenerator<Buffer> {
  for (let stream: StreamHeader | undefined = first; stream !== undefined; stream = await nextStream(reader)) {
    yield streamHeader(stream.checkType);
    const checkSize = CHECK_SIZES[stream.checkType] as number;
    for (;;) {
      const sizeByte = await reader.read(1, 'a block header');
      if (sizeByte[0] === 0x00) {
        yield* indexAndFooterBytes(reader);
        break;
      }
      yield sizeByte;
      yield await reader.read((sizeByte[0] as number) * 4 + 3, 'a block header');
      const dataLength = yield* lzma2Pieces(reader);
      yield await reader.read((4 - (dataLength % 4)) % 4 + checkSize, 'a block’s padding and check');
    }
  }
}

/** One block's LZMA2 chunks through the end marker, grouped by decoded size; returns their byte length. */
async function* lzma2Pieces(reader: ByteReader): AsyncGenerator<Buffer, number> {
  let parts: Buffer[] = [];
  let decoded = 0;
  let length = 0;
  for (;;) {
    const control = (await reader.read(1, 'an LZMA2 chunk'))[0] as number;
    if (control === 0x00) {
      parts.push(Buffer.of(0x00));
      yield Buffer.concat(parts);
      return length + 1;
    }
    let header: Buffer;
    let packed: number;
    let unpacked: number;
    if (control === 0x01 || control === 0x02) {
      header = Buffer.concat([Buffer.of(control), await reader.read(2, 'an LZMA2 chunk header')]);
      unpacked = header.readUInt16BE(1) + 1;
      packed = unpacked;
    } else if (control >= 0x80) {
      // A properties byte follows on a state reset with new properties.
      header = Buffer.concat([Buffer.of(control), await reader.read(control >= 0xc0 ? 5 : 4, 'an LZMA2 chunk header')]);
      unpacked = (control & 0x1f) * 65_536 + header.readUInt16BE(1) + 1;
      packed = header.readUInt16BE(3) + 1;
    } else {
      throw corrupt(`a block holds an invalid LZMA2 control byte 0x${control.toString(16)}`);
    }
    if (decoded + unpacked > MAX_PIECE_OUTPUT && parts.length > 0) {
      yield Buffer.concat(parts);
      parts = [];
      decoded = 0;
    }
    parts.push(header, await reader.read(packed, 'an LZMA2 chunk'));
    decoded += unpacked;
    length += header.length + packed;
  }
}

/** The index (its leading 0x00 already read) and the footer, passed on as they are; liblzma checks them. */
async function* indexAndFooterBytes(reader: ByteReader): AsyncGenerator<Buffer> {
  const seen: number[] = [0x00];
  const count = await readVli(reader, 'the index', seen);
  for (let record = 0; record < count * 2; record++) await readVli(reader, 'the index', seen);
  yield Buffer.from(seen);
  yield await reader.read((4 - (seen.length % 4)) % 4 + 4 + 12, 'the index and the stream footer');
}

/** A block whose header has no compressed size: its LZMA2 chunks, up to MAX_UNSIZED_BLOCK bytes. */
async function readUnsizedBlock(reader: ByteReader): Promise<Buffer> {
  for (let window = 1024 * 1024; ; window = Math.min(window * 2, MAX_UNSIZED_BLOCK)) {
    const piece = await reader.peekUpTo(window);
    const walked = walkLzma2(piece);
    if (walked !== undefined) return reader.read(walked.compressedSize, 'a block');
    if (piece.length < window) throw corrupt('the file ends inside a block');
    if (window >= MAX_UNSIZED_BLOCK) {
      throw new BentoportError('ERR_UNSUPPORTED_FORMAT', `[format-xz] a block without sizes in its header, after blocks with them, is larger than ${MAX_UNSIZED_BLOCK} bytes`);
    }
  }
}

/** The index (its leading 0x00 already read) and the footer, checked against the blocks seen. */
async function readIndexAndFooter(reader: ByteReader, records: BlockRecord[], stream: StreamHeader): Promise<void> {
  const seen: number[] = [0x00];
  const count = await readVli(reader, 'the index', seen);
  if (count !== records.length) throw corrupt(`the index lists ${count} blocks, the stream holds ${records.length}`);
  for (const record of records) {
    const unpadded = await readVli(reader, 'the index', seen);
    const uncompressed = await readVli(reader, 'the index', seen);
    if (unpadded !== record.unpaddedSize || uncompressed !== record.uncompressedSize) throw corrupt('the index does not match the blocks');
  }
  const padding = await reader.read((4 - (seen.length % 4)) % 4, 'the index padding');
  if (padding.some((byte) => byte !== 0)) throw corrupt('the index padding is not zero');
  const indexBytes = Buffer.concat([Buffer.from(seen), padding]);
  const indexCrc = await reader.read(4, 'the index');
  if (crc32(indexBytes) >>> 0 !== indexCrc.readUInt32LE(0)) throw corrupt('the index is damaged (CRC32 mismatch)');
  const footer = await reader.read(12, 'the stream footer');
  if (crc32(footer.subarray(4, 10)) >>> 0 !== footer.readUInt32LE(0)) throw corrupt('the stream footer is damaged (CRC32 mismatch)');
  if ((footer.readUInt32LE(4) + 1) * 4 !== indexBytes.length + 4) throw corrupt('the stream footer gives another index size');
  if (!footer.subarray(8, 10).equals(stream.flags) || !footer.subarray(10, 12).equals(FOOTER_MAGIC)) throw corrupt('the stream footer does not match its header');
}

/** After a stream: zero padding in groups of four, then the end of the file or another stream. */
async function nextStream(reader: ByteReader): Promise<StreamHeader | undefined> {
  for (;;) {
    if (await reader.atEnd()) return undefined;
    const next = await reader.peek(4);
    if (next === undefined) throw corrupt('the file ends with stray bytes after a stream');
    if (next.readUInt32LE(0) !== 0) break;
    await reader.read(4, 'stream padding');
  }
  return parseStreamHeader(await reader.read(12, 'a stream header'));
}

/**
 * An xz decoder that decodes several blocks at once.
 *
 * Why: liblzma 5.2 (what lzma-native ships) decodes one block after the other on one thread, so
 * importing a 1 GiB `.bento` took 1.5× as long as `tar -I xz x`. Blocks whose headers carry
 * their compressed size (ours, and those of `xz -T`) can be cut out of the input without
 * decoding them; each is wrapped as a one-block xz stream of its own (same check type, an index
 * of one record) and decoded by liblzma on a thread-pool thread, which verifies the block's sizes
 * and check as usual. Output comes out in order.
 *
 * Files whose first block has no sizes in its header (single-threaded xz, Python's `lzma`) are
 * one long block with nothing to split, and go through liblzma's own stream decoder unchanged.
 *
 * Returns a Duplex (xz in, decompressed bytes out), as @bentoport/tar's `decodeTar` takes for `decompress`.
 */
export function parallelXzDecoder(options: ParallelXzOptions): Duplex {
  return Duplex.from(async function* (input: AsyncIterable<Buffer>) {
    // The blocks cut from the input and their decoded chunks die soon, but not young: see bufferGarbageCollector.
    const garbage = bufferGarbageCollector();
    for await (const chunk of decodeXz(input, options)) {
      yield chunk;
      garbage.passed(chunk.length);
    }
  });
}
