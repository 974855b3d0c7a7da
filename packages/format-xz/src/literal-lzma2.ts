/**
 * A literal-only LZMA2 encoder: every byte is coded as an LZMA literal by the range coder with
 * adaptive probabilities, and no match is ever searched for. On model weights matches hardly
 * exist (xz -6 spends most of its time looking for them), while the literal coder with
 * position-aware contexts (`lp`) is where the gain is: a float's four bytes (or a 16-bit value's
 * two) have very different distributions, and `lp` gives each byte position its own
 * probabilities. Written from the LZMA2 and LZMA descriptions in the xz file-format
 * specification and checked against liblzma (xz, lzma-native, Python's lzma) by the tests.
 *
 * The encoder is one self-contained class so that {@link literalEncoderSource} can hand its
 * source text to worker threads (see literal-encoder-pool.ts): it refers to nothing outside
 * itself.
 */

/** The LZMA literal coder's context parameters, as xz names them `lc`, `lp`, `pb`. */
export interface LiteralProperties {
  /** High bits of the previous byte used as context (`lc`, 0–4; `lc + lp` ≤ 4 in LZMA2). */
  literalContextBits: number;
  /** Low bits of the position used as literal context (`lp`, 0–4). */
  literalPositionBits: number;
  /** Low bits of the position used for the is-match decision (`pb`, 0–4). */
  positionBits: number;
}

/** What {@link encodeLiteralLzma2} does with one piece. */
export interface LiteralLzma2Options {
  properties: LiteralProperties;
  /**
   * The fraction (0–1) of 64 KiB chunks written as LZMA2 uncompressed chunks without being coded:
   * storing is a copy, coding costs time, so where coding gains more than the size budget needs
   * some of that gain is spent on speed. Spread evenly, the first chunk always coded.
   */
  storedFraction: number;
}

/**
 * The encoder's state for one block. Kept free of references to anything outside the class (its
 * constants are static members) because worker threads rebuild it from its source text.
 */
export class LiteralLzma2Encoder {
  /** Uncompressed bytes per chunk: coded chunks then stay below LZMA2's 64 KiB compressed limit. */
  static readonly CHUNK_BYTES = 65_536;
  /** LZMA2's limit on a chunk's compressed size. */
  static readonly MAX_COMPRESSED_BYTES = 65_536;
  /** Probabilities are 11-bit: 1024 is one half. */
  static readonly PROBABILITY_HALF = 1024;
  /** Literal probabilities per context: a bit tree over 8 bits uses 0x100; LZMA reserves 0x300. */
  static readonly LITERAL_CODER_SIZE = 0x300;
  /** The is-match probabilities come first in the table, one per position state (at most 16). */
  static readonly IS_MATCH_SLOTS = 16;

  readonly #properties: LiteralProperties;
  readonly #probabilities: Int32Array;
  readonly #snapshot: Int32Array;
  /** Where a chunk is coded before it is known whether coding beat storing. */
  readonly #scratch: Uint8Array;
  /** Bytes of the chunk being coded in the scratch buffer, header included. */
  #written = 0;

  constructor(properties: LiteralProperties) {
    LiteralLzma2Encoder.checkProperties(properties);
    this.#properties = properties;
    const contexts = 2 ** (properties.literalContextBits + properties.literalPositionBits);
    this.#probabilities = new Int32Array(LiteralLzma2Encoder.IS_MATCH_SLOTS + contexts * LiteralLzma2Encoder.LITERAL_CODER_SIZE);
    this.#snapshot = new Int32Array(this.#probabilities.length);
    // A literal costs at most about 6 bits per coded bit with 11-bit probabilities (the rarest
    // symbol has probability 31/2048) and there are 9 coded bits per byte: 7 bytes per byte
    // bounds the worst case, before the chunk is found not worth coding and stored instead.
    this.#scratch = new Uint8Array(LiteralLzma2Encoder.CHUNK_BYTES * 7 + 64);
  }

  static checkProperties({ literalContextBits: lc, literalPositionBits: lp, positionBits: pb }: LiteralProperties): void {
    const valid = (value: number) => Number.isInteger(value) && value >= 0 && value <= 4;
    if (!valid(lc) || !valid(lp) || !valid(pb) || lc + lp > 4) {
      throw new RangeError(`LZMA2 needs integers lc, lp, pb in 0-4 with lc + lp <= 4, got lc=${lc} lp=${lp} pb=${pb}`);
    }
  }

  /** The most bytes {@link encode} can write for `length` input bytes (every chunk stored). */
  static maxEncodedLength(length: number): number {
    return length + 3 * Math.ceil(length / LiteralLzma2Encoder.CHUNK_BYTES) + 1;
  }

  /**
   * The whole LZMA2 data of one block for `input` (a dictionary reset first, the end marker
   * last). Chunk by chunk: stored when `storedFraction` schedules it or when coding it would not
   * make it smaller; otherwise coded, the probabilities carried from chunk to chunk. Written
   * into `into` when given (at least {@link maxEncodedLength} bytes; a worker reuses one buffer
   * for every piece), else into a new buffer; the result is a view of the bytes written.
   */
  encode(input: Uint8Array, storedFraction: number, into?: Uint8Array): Uint8Array {
    const needed = LiteralLzma2Encoder.maxEncodedLength(input.length);
    if (into !== undefined && into.length < needed) throw new RangeError(`the output buffer holds ${into.length} bytes, ${needed} needed`);
    const output = into ?? new Uint8Array(needed);
    let outputLength = 0;
    // Properties must be (re)sent by the first coded chunk of a block and after a stored chunk
    // that reset the dictionary (control 0x01, which only the block's first chunk uses).
    let needProperties = true;
    let chunkIndex = 0;
    for (let start = 0; start < input.length; start += LiteralLzma2Encoder.CHUNK_BYTES, chunkIndex++) {
      const end = Math.min(input.length, start + LiteralLzma2Encoder.CHUNK_BYTES);
      const scheduledStore = Math.floor((chunkIndex + 1) * storedFraction) > Math.floor(chunkIndex * storedFraction);
      const coded = scheduledStore ? undefined : this.#codedChunk(input, start, end, needProperties, chunkIndex === 0);
      if (coded !== undefined) {
        output.set(coded, outputLength);
        outputLength += coded.length;
        needProperties = false;
      } else {
        outputLength = LiteralLzma2Encoder.writeStoredChunk(output, outputLength, input, start, end, chunkIndex === 0);
      }
    }
    output[outputLength++] = 0x00;
    return output.subarray(0, outputLength);
  }

  /**
   * The chunk `input[start, end)` coded, header included, or undefined (probabilities restored)
   * when that is not smaller than storing it. A chunk that sends properties also resets the
   * state, so the probabilities start over from one half, as the decoder's will.
   */
  #codedChunk(input: Uint8Array, start: number, end: number, withProperties: boolean, resetDictionary: boolean): Uint8Array | undefined {
    if (withProperties) this.#probabilities.fill(LiteralLzma2Encoder.PROBABILITY_HALF);
    this.#snapshot.set(this.#probabilities);
    const headerLength = withProperties ? 6 : 5;
    this.#written = headerLength;
    this.#codeLiterals(input, start, end);
    const compressedLength = this.#written - headerLength;
    const storedLength = 3 + (end - start);
    if (compressedLength > LiteralLzma2Encoder.MAX_COMPRESSED_BYTES || this.#written >= storedLength) {
      this.#probabilities.set(this.#snapshot);
      return undefined;
    }
    this.#writeCodedHeader(end - start, compressedLength, withProperties, resetDictionary);
    return this.#scratch.subarray(0, this.#written);
  }

  /**
   * LZMA chunk header: control byte (0x80 continue; 0xC0 state reset and properties; 0xE0 also
   * a dictionary reset) with bits 16-20 of the uncompressed size − 1, its low 16 bits and the
   * compressed size − 1 big-endian, then the properties byte `(pb · 5 + lp) · 9 + lc`.
   */
  #writeCodedHeader(uncompressedLength: number, compressedLength: number, withProperties: boolean, resetDictionary: boolean): void {
    const scratch = this.#scratch;
    const { literalContextBits: lc, literalPositionBits: lp, positionBits: pb } = this.#properties;
    const resetBits = resetDictionary ? 0xe0 : withProperties ? 0xc0 : 0x80;
    scratch[0] = resetBits | ((uncompressedLength - 1) >>> 16);
    scratch[1] = ((uncompressedLength - 1) >>> 8) & 0xff;
    scratch[2] = (uncompressedLength - 1) & 0xff;
    scratch[3] = ((compressedLength - 1) >>> 8) & 0xff;
    scratch[4] = (compressedLength - 1) & 0xff;
    if (withProperties) scratch[5] = (pb * 5 + lp) * 9 + lc;
  }

  /**
   * LZMA2 uncompressed chunk: control 0x01 (dictionary reset, the block's first chunk) or 0x02,
   * the size − 1 big-endian, the bytes. The decoder copies them into its dictionary and keeps
   * its probabilities, so the coded chunk after it continues where the last one stopped.
   */
  static writeStoredChunk(output: Uint8Array, at: number, input: Uint8Array, start: number, end: number, first: boolean): number {
    const length = end - start;
    output[at] = first ? 0x01 : 0x02;
    output[at + 1] = ((length - 1) >>> 8) & 0xff;
    output[at + 2] = (length - 1) & 0xff;
    output.set(input.subarray(start, end), at + 3);
    return at + 3 + length;
  }

  /**
   * Codes every byte of `input[start, end)` as a literal: the is-match bit (0) under the
   * position state's probability, then the byte's 8 bits, high first, down the bit tree of the
   * literal context chosen by the position's low `lp` bits and the previous byte's high `lc`
   * bits. Literal-only coding keeps LZMA's state at 0 throughout, so no other probability is used.
   * Each chunk starts a fresh range coder (LZMA2 resets it per chunk). This loop is the whole
   * cost of encoding, so the coder's registers are locals.
   */
  #codeLiterals(input: Uint8Array, start: number, end: number): void {
    const probabilities = this.#probabilities;
    const scratch = this.#scratch;
    const { literalContextBits: lc, literalPositionBits: lp, positionBits: pb } = this.#properties;
    const positionMask = (1 << pb) - 1;
    const literalPositionMask = (1 << lp) - 1;
    const literalBase = LiteralLzma2Encoder.IS_MATCH_SLOTS;
    const coderSize = LiteralLzma2Encoder.LITERAL_CODER_SIZE;
    let low = 0;
    let range = 0xffff_ffff;
    let cache = 0;
    let cacheSize = 1;
    let written = this.#written;
    let previous = start === 0 ? 0 : (input[start - 1] as number);
    for (let position = start; position < end; position++) {
      const byte = input[position] as number;
      const context = literalBase + coderSize * (((position & literalPositionMask) << lc) + (previous >>> (8 - lc)));
      // The is-match bit, always 0, under the position state's probability: it climbs towards
      // certainty and costs about 0.02 bits a byte.
      const matchSlot = position & positionMask;
      const matchProbability = probabilities[matchSlot] as number;
      range = (range >>> 11) * matchProbability;
      probabilities[matchSlot] = matchProbability + ((2048 - matchProbability) >>> 5);
      // Normalisation is written out here and below rather than shared: a closure over the
      // registers made V8 keep them in a heap context, at half the speed.
      while (range < 0x0100_0000) {
        range = (range * 256) >>> 0;
        if (low < 0xff00_0000 || low >= 0x1_0000_0000) {
          const carry = low >= 0x1_0000_0000 ? 1 : 0;
          let pending = cache;
          do {
            scratch[written++] = (pending + carry) & 0xff;
            pending = 0xff;
          } while (--cacheSize !== 0);
          cache = (low >>> 24) & 0xff;
        }
        cacheSize++;
        low = (low & 0x00ff_ffff) * 256;
      }
      let node = 1;
      for (let shift = 7; shift >= 0; shift--) {
        const bit = (byte >>> shift) & 1;
        const slot = context + node;
        const probability = probabilities[slot] as number;
        const bound = (range >>> 11) * probability;
        // Without branches on the bit: mantissa bits are coin flips, and a mispredicted branch
        // per bit cost more than the arithmetic (measured: 8.4-9.6 MB/s against 6.9-7.4).
        const ones = -bit;
        low += bound * bit;
        range = bit === 0 ? bound : range - bound;
        probabilities[slot] = probability + (((2048 - probability) >>> 5) & ~ones) - ((probability >>> 5) & ones);
        while (range < 0x0100_0000) {
          // Shift the top byte out of `low`, resolving a pending carry into the cached bytes.
          range = (range * 256) >>> 0;
          if (low < 0xff00_0000 || low >= 0x1_0000_0000) {
            const carry = low >= 0x1_0000_0000 ? 1 : 0;
            let pending = cache;
            do {
              scratch[written++] = (pending + carry) & 0xff;
              pending = 0xff;
            } while (--cacheSize !== 0);
            cache = (low >>> 24) & 0xff;
          }
          cacheSize++;
          low = (low & 0x00ff_ffff) * 256;
        }
        node = (node << 1) | bit;
      }
      previous = byte;
    }
    this.#written = LiteralLzma2Encoder.flushRangeCoder(scratch, written, low, cache, cacheSize);
  }

  /** Five shifts push all of `low` and the cached bytes out; returns the new write position. */
  static flushRangeCoder(scratch: Uint8Array, at: number, low: number, cache: number, cacheSize: number): number {
    let written = at;
    for (let index = 0; index < 5; index++) {
      if (low < 0xff00_0000 || low >= 0x1_0000_0000) {
        const carry = low >= 0x1_0000_0000 ? 1 : 0;
        let pending = cache;
        do {
          scratch[written++] = (pending + carry) & 0xff;
          pending = 0xff;
        } while (--cacheSize !== 0);
        cache = (low >>> 24) & 0xff;
      }
      cacheSize++;
      low = (low & 0x00ff_ffff) * 256;
    }
    return written;
  }
}

/**
 * LZMA2 data for `input`, every byte a literal (see {@link LiteralLzma2Encoder}). Wrap it in a
 * block with a dictionary-size property of 0 (4 KiB): no match means no dictionary is needed.
 *
 * @throws {RangeError} when the properties are not valid for LZMA2.
 */
export function encodeLiteralLzma2(input: Uint8Array, options: LiteralLzma2Options): Uint8Array {
  const fraction = Math.min(1, Math.max(0, options.storedFraction));
  return new LiteralLzma2Encoder(options.properties).encode(input, fraction);
}

/**
 * The encoder class's source text, for worker threads that cannot import this module (it may be
 * TypeScript under a test runner, or bundled into another file): a class expression.
 */
export function literalEncoderSource(): string {
  return `(${LiteralLzma2Encoder.toString()})`;
}
