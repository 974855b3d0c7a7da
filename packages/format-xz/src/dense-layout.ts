import type { LiteralProperties } from './literal-lzma2.js';

/**
 * Which element width a piece of dense data (model weights) is made of, judged from its bytes,
 * and what that means for the literal-only LZMA2 encoder:
 * - `float32`: the four bytes of each value differ in distribution (sign and exponent, high
 *   mantissa, low mantissa), so each position modulo 4 gets its own literal probabilities (lp=2);
 * - `16-bit` (fp16, bf16): the same with two positions (lp=1);
 * - `other` (int8 quantisation, mixed or unaligned data): no position structure worth coding for;
 *   liblzma's match-finding encoder handles it.
 */
export type DenseLayout = 'float32' | '16-bit' | 'other';

/** What {@link detectDenseLayout} decides for one piece. */
export interface DenseLayoutDecision {
  layout: DenseLayout;
  /** The literal coder's lc/lp/pb for the layout (absent for `other`). */
  properties?: LiteralProperties;
  /**
   * The fraction of the piece's chunks to store instead of coding, spending what position-aware
   * coding gains over xz's own literal coder on speed, down to the size budget.
   */
  storedFraction: number;
  /** The estimates behind the decision, in bits per byte. */
  bitsPerByte: { xz: number; float32: number; sixteenBit: number };
  /** The share of the sample's 4-byte-aligned words seen earlier in the sample. */
  repeatedWords: number;
  /**
   * The share of the sample's bytes that text and tar framing are made of: printable ASCII, tab,
   * line breaks and NUL (tar headers and padding). Near 1 for source files, well below for weights.
   */
  textShare: number;
}

/** How the sample is taken: runs of this many bytes (the previous byte is context)… */
const SAMPLE_RUN_BYTES = 4096;
/** …up to this many bytes in all, spread evenly over the piece. */
const SAMPLE_BYTES = 128 * 1024;

/**
 * Position-aware coding must beat xz's literal coder by this factor for the piece to leave
 * liblzma: below it, the literal coder's lack of matches could cost more than it gains.
 */
const MIN_GAIN = 0.99;
/**
 * The size a piece may reach, as a fraction of what xz -6 would make of it: 1.0 would spend all
 * of the estimated gain on stored chunks; the margin absorbs the estimate's error (xz -6 also
 * finds a few matches, and adaptive coding costs a little over the static entropy).
 */
const SIZE_BUDGET = 0.985;
/**
 * Above this share of repeated 4-byte words xz's matches pay (quantised or sparse weights: on
 * real fp16-quantised TF.js weights xz -6 reached 3.9 bits a byte where its literals alone would
 * need 4.7), the xz estimate above is too high, and no chunk is stored. Trained float32 weights
 * and noise repeat well under 1% of words.
 */
const MAX_REPEATED_WORDS = 0.02;

const FLOAT32_PROPERTIES: LiteralProperties = { literalContextBits: 1, literalPositionBits: 2, positionBits: 2 };
const SIXTEEN_BIT_PROPERTIES: LiteralProperties = { literalContextBits: 1, literalPositionBits: 1, positionBits: 1 };

/**
 * Decides the layout of `piece` from three estimates of the bits per byte an adaptive literal
 * coder would need, each the conditional entropy of a byte given its coder's context over a
 * sample of the piece: xz -6's literals (the previous byte's high 3 bits, lc=3 lp=0), float32
 * (the position modulo 4 and the previous byte's high bit) and 16-bit (modulo 2 and the high
 * bit). The layout whose estimate is lowest wins if it beats xz's by {@link MIN_GAIN}; 16-bit is
 * preferred on a tie, as fewer contexts adapt faster. A pure function of the bytes: the archive
 * stays reproducible.
 */
export function detectDenseLayout(piece: Uint8Array): DenseLayoutDecision {
  const counts = contextCounts(piece);
  const repeatedWords = repeatedWordShare(piece);
  const textShare = textByteShare(counts.xz);
  const bitsPerByte = {
    xz: conditionalEntropy(counts.xz),
    float32: conditionalEntropy(counts.float32),
    sixteenBit: conditionalEntropy(counts.sixteenBit),
  };
  const float32Wins = bitsPerByte.float32 < bitsPerByte.sixteenBit * 0.995;
  const layout: DenseLayout = float32Wins ? 'float32' : '16-bit';
  const estimate = float32Wins ? bitsPerByte.float32 : bitsPerByte.sixteenBit;
  if (!(estimate < bitsPerByte.xz * MIN_GAIN)) return { layout: 'other', storedFraction: 0, bitsPerByte, repeatedWords, textShare };
  const matchesPay = repeatedWords > MAX_REPEATED_WORDS;
  return {
    layout,
    properties: float32Wins ? FLOAT32_PROPERTIES : SIXTEEN_BIT_PROPERTIES,
    storedFraction: matchesPay ? 0 : storedFractionWithin(estimate, bitsPerByte.xz * SIZE_BUDGET),
    bitsPerByte,
    repeatedWords,
    textShare,
  };
}

/**
 * Position-aware coding must beat xz's literal coder by this factor for a piece the classifier
 * called compressible (deflate shrank it by 20% or more) to leave xz preset 6: there matches may
 * pay, which the estimates do not see, so only a large gain counts. fp16-quantised TF.js weights
 * estimate at 0.78 and code to 0.93× of xz -6; text and source estimate at 0.99 or more.
 */
const STRONG_GAIN = 0.9;

/**
 * Below this share of text bytes a compressible piece is binary (quantised weights, not source
 * or tar headers): uniform byte values would give 0.39, fp16 and uint8 weights sit well below
 * 0.75, source files and tar framing above 0.95.
 */
const MAX_BINARY_TEXT_SHARE = 0.75;

/** Whether a piece is binary rather than text or tar framing (see {@link MAX_BINARY_TEXT_SHARE}). */
export function isBinary(decision: DenseLayoutDecision): boolean {
  return decision.textShare < MAX_BINARY_TEXT_SHARE;
}

/**
 * Whether `decision` shows position structure strong enough to code a compressible piece
 * (quantised weights, which deflate shrinks well) literal-only, without stored chunks.
 */
export function hasStrongPositionStructure(decision: DenseLayoutDecision): boolean {
  if (decision.properties === undefined) return false;
  const estimate = decision.layout === 'float32' ? decision.bitsPerByte.float32 : decision.bitsPerByte.sixteenBit;
  return estimate <= decision.bitsPerByte.xz * STRONG_GAIN;
}

/**
 * The fraction f of chunks that can be stored (8 bits a byte) while the rest is coded at
 * `codedBits`, keeping the average within `budgetBits`: (1 − f)·coded + 8·f = budget.
 */
export function storedFractionWithin(codedBits: number, budgetBits: number): number {
  if (codedBits >= 8) return 0;
  return Math.min(1, Math.max(0, (budgetBits - codedBits) / (8 - codedBits)));
}

/** Byte counts per context of the three models, over the sample: 8 contexts × 256 each. */
function contextCounts(piece: Uint8Array): { xz: Uint32Array; float32: Uint32Array; sixteenBit: Uint32Array } {
  const xz = new Uint32Array(8 * 256);
  const float32 = new Uint32Array(8 * 256);
  const sixteenBit = new Uint32Array(4 * 256);
  for (const start of sampleRunStarts(piece.length)) {
    const end = Math.min(piece.length, start + SAMPLE_RUN_BYTES);
    let previous = start === 0 ? 0 : (piece[start - 1] as number);
    for (let position = start; position < end; position++) {
      const byte = piece[position] as number;
      const highBit = previous >>> 7;
      (xz[((previous >>> 5) << 8) | byte] as number)++;
      (float32[((((position & 3) << 1) | highBit) << 8) | byte] as number)++;
      (sixteenBit[((((position & 1) << 1) | highBit) << 8) | byte] as number)++;
      previous = byte;
    }
  }
  return { xz, float32, sixteenBit };
}

/** The share of text bytes (see {@link DenseLayoutDecision.textShare}) among the counted bytes, whatever their context. */
function textByteShare(counts: Uint32Array): number {
  let text = 0;
  let total = 0;
  for (let index = 0; index < counts.length; index++) {
    const count = counts[index] as number;
    const byte = index & 0xff;
    total += count;
    if (byte === 0x00 || byte === 0x09 || byte === 0x0a || byte === 0x0d || (byte >= 0x20 && byte <= 0x7e)) text += count;
  }
  return total === 0 ? 1 : text / total;
}

/**
 * The share of 4-byte-aligned words in the sample that appeared earlier in it: a cheap stand-in
 * for how much xz's match finder would find. An open-addressing set of the words seen.
 */
function repeatedWordShare(piece: Uint8Array): number {
  const view = new DataView(piece.buffer, piece.byteOffset, piece.byteLength);
  const slots = 1 << 16;
  const words = new Uint32Array(slots);
  const used = new Uint8Array(slots);
  let seen = 0;
  let repeated = 0;
  for (const start of sampleRunStarts(piece.length)) {
    const end = Math.min(piece.length, start + SAMPLE_RUN_BYTES) - 3;
    for (let position = start; position < end && seen < slots / 2; position += 4) {
      const word = view.getUint32(position, true);
      let slot = Math.imul(word, 0x9e37_79b1) >>> 16;
      while (used[slot] === 1 && words[slot] !== word) slot = (slot + 1) & (slots - 1);
      if (used[slot] === 1) repeated++;
      else {
        used[slot] = 1;
        words[slot] = word;
      }
      seen++;
    }
  }
  return seen === 0 ? 0 : repeated / seen;
}

/**
 * Where the sample's runs start: the whole piece when it is small, else runs spread evenly,
 * each starting at a multiple of 4 so every position modulo 4 is sampled alike.
 */
function sampleRunStarts(length: number): number[] {
  if (length <= SAMPLE_BYTES) {
    const starts: number[] = [];
    for (let start = 0; start < length; start += SAMPLE_RUN_BYTES) starts.push(start);
    return starts;
  }
  const runs = SAMPLE_BYTES / SAMPLE_RUN_BYTES;
  const stride = Math.floor((length - SAMPLE_RUN_BYTES) / (runs - 1) / 4) * 4;
  return Array.from({ length: runs }, (_, run) => run * stride);
}

/** The entropy of the byte given its context, in bits per byte, from counts laid out context × 256. */
function conditionalEntropy(counts: Uint32Array): number {
  let total = 0;
  let bits = 0;
  for (let context = 0; context < counts.length; context += 256) {
    let contextTotal = 0;
    for (let byte = 0; byte < 256; byte++) contextTotal += counts[context + byte] as number;
    if (contextTotal === 0) continue;
    for (let byte = 0; byte < 256; byte++) {
      const count = counts[context + byte] as number;
      if (count > 0) bits -= count * Math.log2(count / contextTotal);
    }
    total += contextTotal;
  }
  return total === 0 ? 8 : bits / total;
}
