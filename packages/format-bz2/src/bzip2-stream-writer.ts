/**
 * Joins bzip2 blocks compressed independently into ONE bzip2 stream. Python's `tarfile` in
 * stream mode (`r|bz2`) reads only the first stream of a file, so concatenated streams will not
 * do. Blocks in a bzip2 stream are bit-aligned, not byte-aligned: each compressed piece (a whole
 * one-block stream as the encoder writes it) is cut to its block's bits, which are appended at
 * whatever bit offset the output has reached. The stream trailer carries a CRC combined from the
 * block CRCs in order.
 */

const BLOCK_MAGIC_HIGH = 0x3141;
const BLOCK_MAGIC_LOW = 0x59265359;
const END_MAGIC_HIGH = 0x1772;
const END_MAGIC_LOW = 0x45385090;
/** `BZh` + the block-size digit. */
const STREAM_HEADER_BITS = 32;

/** The bits of one block, and its CRC. */
export interface BzipBlock {
  bytes: Uint8Array;
  /** Bit offset of the block magic in `bytes`. */
  startBit: number;
  /** Bit offset just past the block. */
  endBit: number;
  crc: number;
}

function readBits(bytes: Uint8Array, bitOffset: number, count: number): number {
  let value = 0;
  for (let index = 0; index < count; index++) {
    const bit = bitOffset + index;
    value = value * 2 + (((bytes[bit >>> 3] ?? 0) >>> (7 - (bit & 7))) & 1);
  }
  return value;
}

/**
 * The single block of a one-block bzip2 stream as an encoder wrote it. The end of the block is
 * found from the end of the stream: the end magic, then the stream CRC, then 0–7 zero bits of
 * padding; with one block the stream CRC equals the block CRC, which confirms the position.
 * @throws {Error} when `stream` is not a one-block bzip2 stream.
 */
export function singleBlockOf(stream: Uint8Array): BzipBlock {
  if (readBits(stream, STREAM_HEADER_BITS, 16) !== BLOCK_MAGIC_HIGH || readBits(stream, STREAM_HEADER_BITS + 16, 32) !== BLOCK_MAGIC_LOW) {
    throw new Error('bzip2 encoder output does not start with a block');
  }
  const crc = readBits(stream, STREAM_HEADER_BITS + 48, 32);
  const totalBits = stream.length * 8;
  for (let padding = 0; padding < 8; padding++) {
    const endMagicAt = totalBits - padding - 80;
    if (
      readBits(stream, endMagicAt, 16) === END_MAGIC_HIGH &&
      readBits(stream, endMagicAt + 16, 32) === END_MAGIC_LOW &&
      readBits(stream, endMagicAt + 48, 32) === crc
    ) {
      return { bytes: stream, startBit: STREAM_HEADER_BITS, endBit: endMagicAt, crc };
    }
  }
  throw new Error('bzip2 encoder output is not a single block stream');
}

/** Appends bit ranges MSB first into byte buffers handed out as they fill. */
export class BitWriter {
  #buffer: Buffer;
  #bytePosition = 0;
  /** Bits pending in the current, partial byte (0–7), held in the top bits of #partial. */
  #pendingBits = 0;
  #partial = 0;

  constructor(capacity = 1 << 20) {
    this.#buffer = Buffer.alloc(capacity);
  }

  #ensure(extraBytes: number): void {
    if (this.#bytePosition + extraBytes + 1 <= this.#buffer.length) return;
    const larger = Buffer.alloc(Math.max(this.#buffer.length * 2, this.#bytePosition + extraBytes + 1));
    this.#buffer.copy(larger, 0, 0, this.#bytePosition);
    this.#buffer = larger;
  }

  /** `count` (≤ 32) low bits of `value`, most significant first. */
  writeBits(value: number, count: number): void {
    this.#ensure(5);
    for (let index = count - 1; index >= 0; index--) this.#pushBit(Math.floor(value / 2 ** index) & 1);
  }

  #pushBit(bit: number): void {
    this.#partial |= bit << (7 - this.#pendingBits);
    this.#pendingBits++;
    if (this.#pendingBits === 8) {
      this.#buffer[this.#bytePosition++] = this.#partial;
      this.#partial = 0;
      this.#pendingBits = 0;
    }
  }

  /** Bits `startBit` to `endBit` of `bytes`: a byte at a time where the source allows. */
  copyBits(bytes: Uint8Array, startBit: number, endBit: number): void {
    this.#ensure(Math.ceil((endBit - startBit) / 8) + 2);
    let bit = startBit;
    while (bit < endBit && (bit & 7) !== 0) {
      this.#pushBit(((bytes[bit >>> 3] ?? 0) >>> (7 - (bit & 7))) & 1);
      bit++;
    }
    const shift = this.#pendingBits;
    const buffer = this.#buffer;
    let position = this.#bytePosition;
    let partial = this.#partial;
    // Whole source bytes: each fills the rest of the pending byte and starts the next one.
    while (endBit - bit >= 8) {
      const byte = bytes[bit >>> 3] ?? 0;
      buffer[position++] = partial | (byte >>> shift);
      partial = (byte << (8 - shift)) & 0xff;
      bit += 8;
    }
    this.#bytePosition = position;
    this.#partial = partial;
    while (bit < endBit) {
      this.#pushBit(((bytes[bit >>> 3] ?? 0) >>> (7 - (bit & 7))) & 1);
      bit++;
    }
  }

  /** Whole bytes written so far, handed over; the partial byte stays. */
  take(): Buffer {
    const out = Buffer.from(this.#buffer.subarray(0, this.#bytePosition));
    this.#bytePosition = 0;
    return out;
  }

  /** Pads the last byte with zero bits and hands everything over. */
  finish(): Buffer {
    if (this.#pendingBits > 0) {
      this.#ensure(1);
      this.#buffer[this.#bytePosition++] = this.#partial;
      this.#partial = 0;
      this.#pendingBits = 0;
    }
    return this.take();
  }
}

/** One bzip2 stream from blocks: `BZh9`, each block's bits, the end magic, the combined CRC. */
export async function* joinBlocks(blocks: AsyncIterable<BzipBlock>, level: number): AsyncGenerator<Buffer> {
  const writer = new BitWriter();
  writer.writeBits(0x425a68, 24);
  writer.writeBits(0x30 + level, 8);
  let combined = 0;
  for await (const block of blocks) {
    combined = (((combined << 1) | (combined >>> 31)) ^ block.crc) >>> 0;
    writer.copyBits(block.bytes, block.startBit, block.endBit);
    yield writer.take();
  }
  writer.writeBits(END_MAGIC_HIGH, 16);
  writer.writeBits(END_MAGIC_LOW, 32);
  writer.writeBits(combined, 32);
  yield writer.finish();
}
