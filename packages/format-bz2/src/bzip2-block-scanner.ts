/**
 * Finds where the blocks of a bzip2 stream begin and end, so that they can be decoded apart, on
 * as many threads as there are cores. bzip2 records no block lengths: a block ends where the next
 * block's 48-bit magic (0x314159265359, π) or the end-of-stream magic (0x177245385090, √π)
 * begins, at any bit offset. This scans for both at every bit offset, as lbzip2 does.
 *
 * The compressed bits can hold a magic by chance (one chance in 2^48 per bit, about one in
 * 30,000 per GiB): such a false cut splits a block in two halves that fail to decode, and the
 * decoder then decodes them as one (see parallel-bunzip2.ts). The scanner is only speculative
 * about it: it reports every cut it finds.
 */

/** A stretch of the compressed input from one cut to the next. */
export interface Bzip2Segment {
  /** What starts it: a block (decoded on its own) or an end of stream (trailer, maybe the next header). */
  kind: 'block' | 'eos';
  /** Absolute bit positions of its first bit and of the bit after its last. */
  startBit: number;
  endBit: number;
  /** The input from byte floor(startBit / 8) to byte ceil(endBit / 8). */
  bytes: Uint8Array;
  /**
   * The 32 bits after the magic: a block's CRC, or for an end of stream the stream's combined
   * CRC. Undefined only for an end of stream cut short by the end of the input.
   */
  crc: number | undefined;
  /** What ends it: the next cut, or the end of the input (or of what is looked at). */
  end: 'cut' | 'eof';
  /** Of an end of stream: whether another stream's header follows, or bytes to ignore. */
  followedBy?: 'stream' | 'trailing';
}

/** The input does not start with a bzip2 header, or breaks off inside one. */
export class Bzip2ScanError extends Error {}

const BLOCK_MAGIC = 0x314159265359n;
const EOS_MAGIC = 0x177245385090n;
const MAGIC_BITS = 48;
/** Magic and CRC of an end of stream. */
const TRAILER_BITS = MAGIC_BITS + 32;
const HEADER = [0x42, 0x5a, 0x68]; // 'BZh', then the level '1'-'9'

/**
 * A compressed block of bzip2 -9 takes at most ~0.91 MB (900,000 bytes that do not compress,
 * plus the tables); a stretch this long without a cut is not bzip2, and holding more would let
 * bad input fill memory.
 */
export const MAX_SEGMENT_BYTES = 4 * 1024 * 1024;

/** How a magic starting at bit `shift` of a byte covers the 7 bytes from that byte on. */
interface Pattern {
  kind: 'block' | 'eos';
  shift: number;
  values: number[];
  masks: number[];
}

function patternsOf(kind: 'block' | 'eos', magic: bigint): Pattern[] {
  const patterns: Pattern[] = [];
  for (let shift = 0; shift < 8; shift++) {
    const placed = magic << BigInt(8 - shift);
    const mask = ((1n << BigInt(MAGIC_BITS)) - 1n) << BigInt(8 - shift);
    const byteAt = (value: bigint, index: number) => Number((value >> BigInt(48 - 8 * index)) & 0xffn);
    patterns.push({ kind, shift, values: [0, 1, 2, 3, 4, 5, 6].map((i) => byteAt(placed, i)), masks: [0, 1, 2, 3, 4, 5, 6].map((i) => byteAt(mask, i)) });
  }
  return patterns;
}

const PATTERNS = [...patternsOf('block', BLOCK_MAGIC), ...patternsOf('eos', EOS_MAGIC)];

/**
 * The patterns whose second byte (always whole, whatever the shift) is each byte value: one
 * lookup rejects almost every position.
 */
const BY_SECOND_BYTE: Pattern[][] = Array.from({ length: 256 }, (_, value) => PATTERNS.filter((pattern) => pattern.values[1] === value));

/** The 32 bits from bit `bit` of `bytes` on (bit 0 is the first byte's most significant). */
export function uint32AtBit(bytes: Uint8Array, bit: number): number {
  const index = Math.floor(bit / 8);
  const shift = bit % 8;
  let value = 0;
  for (let i = 0; i < 5; i++) value = value * 256 + (bytes[index + i] ?? 0);
  // 40 bits read; keep the 32 from `shift` on.
  return Math.floor(value / 2 ** (8 - shift)) % 2 ** 32;
}

export class Bzip2BlockScanner {
  /** Input not yet released: from absolute byte `#base` on, `#length` bytes of `#buffer`. */
  #buffer = new Uint8Array(1 << 20);
  #length = 0;
  #base = 0;
  /** Absolute byte where the next stream header is expected, or undefined while scanning. */
  #headerAt: number | undefined = 0;
  /** Absolute byte of the next scan window (a magic may start at any bit of it). */
  #scanFrom = 0;
  #lastCut: { bit: number; kind: 'block' | 'eos' } | undefined;
  /** A stream header was read: input that ends now is truncated, not empty. */
  #sawHeader = false;
  /** The last end of stream was not followed by a header: what follows is ignored, unless the end was a false one. */
  #trailing = false;
  /** Trailing bytes ran on past any block: nothing more is looked at. */
  #stopped = false;
  /** Where the first magic after a header must be: right after it. */
  #firstCutAt: number | undefined;

  /** Segments found and not yet taken. */
  readonly #ready: Bzip2Segment[] = [];
  #ended = false;
  #endTaken = false;

  /** Adds input; its segments come from next(). */
  push(chunk: Uint8Array): void {
    if (!this.#stopped) this.#append(chunk);
  }

  /** No more input: next() gives the segment still open. */
  end(): void {
    this.#ended = true;
  }

  /**
   * The next segment the input in hand completes, or undefined until more comes (or, after
   * end(), when there is no other). One at a time, so that a caller holding a large chunk
   * takes its blocks as it can handle them.
   * @throws {Bzip2ScanError} for input that is not bzip2, corrupt or truncated.
   */
  next(): Bzip2Segment | undefined {
    if (this.#ready.length === 0 && !this.#stopped) this.#scan(this.#ready);
    if (this.#ready.length === 0 && this.#ended && !this.#endTaken) {
      this.#endTaken = true;
      this.#finalSegment();
    }
    return this.#ready.shift();
  }

  /** At the end of the input: the segment still open, or the error that its absence means. */
  #finalSegment(): void {
    if (this.#stopped) return;
    if (this.#headerAt === 0 && this.#length > 0) {
      const prefix = this.#buffer.subarray(0, Math.min(this.#length, 3));
      if (prefix.every((byte, index) => byte === HEADER[index])) throw new Bzip2ScanError('the bzip2 stream ends before its end-of-stream marker (truncated input)');
      throw new Bzip2ScanError('not bzip2 data (no BZh header)');
    }
    if (this.#lastCut === undefined) {
      if (this.#sawHeader) throw new Bzip2ScanError('the bzip2 stream ends before its end-of-stream marker (truncated input)');
      return;
    }
    // Fewer than 4 bytes after an end of stream start no stream: they are ignored.
    if (this.#headerAt !== undefined) this.#trailing = true;
    this.#ready.push(this.#segment((this.#base + this.#length) * 8, 'eof'));
  }

  #append(chunk: Uint8Array): void {
    if (this.#length + chunk.length > this.#buffer.length) {
      const larger = new Uint8Array(Math.max(this.#buffer.length * 2, this.#length + chunk.length));
      larger.set(this.#buffer.subarray(0, this.#length));
      this.#buffer = larger;
    }
    this.#buffer.set(chunk, this.#length);
    this.#length += chunk.length;
  }

  /** Scans on until one segment is complete (pushed to `segments`) or the input in hand runs out. */
  #scan(segments: Bzip2Segment[]): void {
    while (segments.length === 0) {
      if (this.#headerAt !== undefined && !this.#readHeader()) return;
      const cut = this.#findCut();
      const misplaced = cut === undefined ? this.#firstCutAt !== undefined && this.#scanFrom * 8 > this.#firstCutAt : this.#firstCutAt !== undefined && cut.bit !== this.#firstCutAt;
      if (misplaced) throw new Bzip2ScanError('bzip2 data is corrupt (no block right after a stream header)');
      if (cut === undefined) {
        this.#checkRunLength(segments);
        return;
      }
      this.#firstCutAt = undefined;
      if (this.#lastCut !== undefined) segments.push(this.#segment(cut.bit, 'cut'));
      this.#lastCut = cut;
      this.#release(Math.floor(cut.bit / 8));
      if (cut.kind === 'eos') {
        // The trailer's CRC, padding to a byte, then the next stream's header or bytes to ignore.
        this.#headerAt = Math.ceil((cut.bit + TRAILER_BITS) / 8);
      }
      this.#scanFrom = Math.floor((cut.bit + MAGIC_BITS) / 8);
    }
  }

  /**
   * Reads the header at `#headerAt` once its 4 bytes are in; false while they are not. The first
   * one must be there; after an end of stream, anything else is trailing bytes, still scanned in
   * case the end of stream was a false one.
   */
  #readHeader(): boolean {
    const at = this.#headerAt as number;
    const offset = at - this.#base;
    if (this.#length < offset + 4) return false;
    const level = this.#buffer[offset + 3] ?? 0;
    const isHeader = HEADER.every((byte, index) => this.#buffer[offset + index] === byte) && level >= 0x31 && level <= 0x39;
    this.#headerAt = undefined;
    if (at === 0 && !isHeader) throw new Bzip2ScanError('not bzip2 data (no BZh header)');
    this.#trailing = !isHeader;
    if (isHeader) {
      this.#sawHeader = true;
      this.#scanFrom = Math.max(this.#scanFrom, at + 4);
      this.#firstCutAt = (at + 4) * 8;
    }
    return true;
  }

  /** The next magic from `#scanFrom` on, or undefined when the input in hand has none. */
  #findCut(): { bit: number; kind: 'block' | 'eos' } | undefined {
    const buffer = this.#buffer;
    const last = this.#length - 7;
    for (let index = this.#scanFrom - this.#base; index <= last; index++) {
      const candidates = BY_SECOND_BYTE[buffer[index + 1] as number] as Pattern[];
      if (candidates.length === 0) continue;
      for (const pattern of candidates) {
        if (matches(buffer, index, pattern)) {
          this.#scanFrom = this.#base + index + 1;
          return { bit: (this.#base + index) * 8 + pattern.shift, kind: pattern.kind };
        }
      }
    }
    this.#scanFrom = Math.max(this.#scanFrom, this.#base + last + 1);
    return undefined;
  }

  /** Bounds what bad input can make this hold: no cut in MAX_SEGMENT_BYTES is not bzip2. */
  #checkRunLength(segments: Bzip2Segment[]): void {
    const since = this.#lastCut === undefined ? 0 : Math.floor(this.#lastCut.bit / 8);
    if (this.#base + this.#length - since <= MAX_SEGMENT_BYTES) return;
    if (this.#lastCut?.kind === 'eos' && this.#trailing) {
      // Bytes to ignore after a stream, longer than any block: the end of stream was a real one.
      segments.push(this.#segment((this.#base + this.#length) * 8, 'eof'));
      this.#stopped = true;
      return;
    }
    throw new Bzip2ScanError(`bzip2 data is corrupt (no block boundary in ${MAX_SEGMENT_BYTES} bytes)`);
  }

  #segment(endBit: number, end: Bzip2Segment['end']): Bzip2Segment {
    const cut = this.#lastCut as { bit: number; kind: 'block' | 'eos' };
    const first = Math.floor(cut.bit / 8) - this.#base;
    const last = Math.min(this.#length, Math.ceil(endBit / 8) - this.#base);
    const bytes = this.#buffer.slice(first, last);
    const crcBit = cut.bit + MAGIC_BITS - (first + this.#base) * 8;
    const crc = crcBit + 32 <= bytes.length * 8 ? uint32AtBit(bytes, crcBit) : undefined;
    const segment: Bzip2Segment = { kind: cut.kind, startBit: cut.bit, endBit, bytes, crc, end };
    if (cut.kind === 'eos') segment.followedBy = this.#trailing ? 'trailing' : 'stream';
    return segment;
  }

  /**
   * Drops the input before absolute byte `byte`. The bytes kept move to the front only once the
   * dropped part is at least as long as they are: a chunk holding many blocks is not copied once
   * per block.
   */
  #release(byte: number): void {
    const drop = byte - this.#base;
    if (drop <= 0 || drop < this.#length - drop) return;
    this.#buffer.copyWithin(0, drop, this.#length);
    this.#length -= drop;
    this.#base = byte;
  }
}

function matches(buffer: Uint8Array, index: number, pattern: Pattern): boolean {
  for (let i = 0; i < 7; i++) {
    const mask = pattern.masks[i] as number;
    if (mask !== 0 && ((buffer[index + i] as number) & mask) !== pattern.values[i]) return false;
  }
  return true;
}
