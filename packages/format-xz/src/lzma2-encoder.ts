import lzma from 'lzma-native';
import type { CompressibilityClass } from '@bentoport/plugin-kit';
import { detectDenseLayout, hasStrongPositionStructure, isBinary } from './dense-layout.js';
import type { LiteralEncoderPool } from './literal-encoder-pool.js';
import type { LiteralProperties } from './literal-lzma2.js';
import { codeWhole } from './liblzma-whole.js';
import { dictionaryProperty, encodeBlock, storedLzma2 } from './xz-container.js';
import type { EncodedBlock } from './xz-container.js';

/** Dictionary-size property 0 (4 KiB), for literal-only blocks. */
const LITERAL_DICTIONARY_PROPERTY = 0;

/**
 * The dictionary of text-like pieces. xz preset 6 (BentoML's, Python's and xz's default) uses
 * 8 MiB, and its BT4 match finder needs about 12 times the dictionary: 25 MiB per encoder for a
 * 2 MiB piece, two encoders at once. With 1 MiB (15 MiB per encoder) a bento's source tree
 * (24 MB of Python in 2 MiB pieces) compresses 0.7% larger, 0.02% of a bento with weights, and
 * 20% faster; 512 KiB would cost 2.5%.
 */
const TEXT_DICTIONARY = 1024 * 1024;

/**
 * One xz block for `piece`, compressed as its class asks (`literalPool` is given under the `auto`
 * policy only: `max` means preset 6 for everything):
 * - `compressible` with strong float32 or 16-bit structure (quantised weights): the literal-only
 *   encoder below, nothing stored;
 * - other binary `compressible` data (quantised weights): xz preset 0 with the detected lc/lp/pb
 *   (see {@link encodeBinaryWeights});
 * - text-like `compressible` data (source, tar framing): LZMA2 with xz preset 6's parameters (normal mode, BT4 match finder, nice
 *   length 64, lc 3 lp 0 pb 2), the dictionary 1 MiB, or the piece's size when smaller (see
 *   {@link TEXT_DICTIONARY}): a block never refers outside itself;
 * - `dense` whose bytes show float32 or 16-bit structure (see dense-layout.ts): the literal-only
 *   LZMA2 encoder on `literalPool`'s workers, position-aware, some chunks stored for speed
 *   within the size budget; smaller than xz -6 on weights at more than 20 times its speed;
 * - other `dense` data (or without a pool): xz preset 0 (256 KiB dictionary, fast mode): within
 *   0.2% of preset 6 on float32 weights at four times the speed;
 * - `incompressible`: LZMA2 uncompressed chunks, copied in JavaScript.
 *
 * liblzma (through lzma-native) runs each encoder on a thread of its own, so pieces encoded
 * concurrently use every core.
 */
export async function encodePiece(piece: Buffer, pieceClass: CompressibilityClass, literalPool?: () => LiteralEncoderPool): Promise<EncodedBlock> {
  if (pieceClass === 'incompressible') return encodeBlock(storedLzma2(piece), piece, 0);
  const decision = literalPool === undefined ? undefined : detectDenseLayout(piece);
  if (literalPool !== undefined && decision?.properties !== undefined) {
    // Compressible pieces (quantised weights) only with strong structure, and nothing stored:
    // xz's matches may pay there, and the stored-chunk budget does not count them.
    const literal = pieceClass === 'dense' || hasStrongPositionStructure(decision);
    if (literal) {
      const storedFraction = pieceClass === 'dense' ? decision.storedFraction : 0;
      const lzma2 = await literalPool().encode(piece, decision.properties, storedFraction);
      // No matches, so no dictionary: the smallest (4 KiB) keeps the decoder's memory minimal.
      return encodeBlock([lzma2], piece, LITERAL_DICTIONARY_PROPERTY);
    }
  }
  if (pieceClass === 'dense') {
    const { property } = dictionaryProperty(256 * 1024);
    return encodeBlock(await rawLzma2(piece, { preset: 0 }), piece, property);
  }
  if (decision !== undefined && isBinary(decision)) return encodeBinaryWeights(piece, decision.properties);
  const { property, size } = dictionaryProperty(Math.min(TEXT_DICTIONARY, Math.max(4096, piece.length)));
  return encodeBlock(await rawLzma2(piece, { ...PRESET_6, dictSize: size }), piece, property);
}

/**
 * Binary compressible data under `auto` (quantised weights, which deflate shrinks by a fifth or
 * more): xz preset 0, with the detected position-aware contexts where there are any. On 16.9 MB
 * of fp16/uint8-quantised TF.js weights (xz 5.4, one core): preset 6 11,570,380 bytes in 13.5 s,
 * preset 0 with lc=1 lp=1 pb=1 11,745,752 (1.015×) in 2.1 s, plain preset 0 1.043× in 2.1 s.
 * The real-weights size budget (1.02× BentoML's) allows the 1.5%; the time is a sixth.
 */
async function encodeBinaryWeights(piece: Buffer, properties: LiteralProperties | undefined): Promise<EncodedBlock> {
  const { property, size } = dictionaryProperty(256 * 1024);
  // Preset 0 spelled out: lzma-native ignores lc/lp/pb given beside a preset.
  const preset0 = { dictSize: size, lc: 3, lp: 0, pb: 2, mode: lzma.MODE_FAST, mf: lzma.MF_HC3, niceLen: 128, depth: 4 };
  const contexts = properties === undefined ? {} : { lc: properties.literalContextBits, lp: properties.literalPositionBits, pb: properties.positionBits };
  return encodeBlock(await rawLzma2(piece, { ...preset0, ...contexts }), piece, property);
}

/** xz preset 6's LZMA2 parameters, but the dictionary. */
const PRESET_6 = { lc: 3, lp: 0, pb: 2, mode: lzma.MODE_NORMAL, niceLen: 64, mf: lzma.MF_BT4, depth: 0 };

/** `piece` as raw LZMA2 data, coded whole on a thread-pool thread (see liblzma-whole.ts). */
function rawLzma2(piece: Buffer, options: Record<string, number>): Promise<Buffer[]> {
  // LZMA2 never grows data by more than its chunk headers: one output buffer holds it all.
  return codeWhole({ rawEncoder: { filters: [{ id: lzma.FILTER_LZMA2, options }] } }, piece, piece.length + Math.ceil(piece.length / 1024) + 64);
}
