import lzma from 'lzma-native';
import type { CompressibilityClass } from '@bentoport/plugin-kit';
import { detectDenseLayout, hasStrongPositionStructure } from './dense-layout.js';
import type { LiteralEncoderPool } from './literal-encoder-pool.js';
import type { LiteralProperties } from './literal-lzma2.js';
import { dictionaryProperty, encodeBlock, storedLzma2 } from './xz-container.js';
import type { EncodedBlock } from './xz-container.js';

/** Dictionary-size property 0 (4 KiB), for literal-only blocks. */
const LITERAL_DICTIONARY_PROPERTY = 0;

/** xz preset 6 (BentoML's, Python's and xz's default) caps the dictionary at 8 MiB. */
const PRESET_6_DICTIONARY = 8 * 1024 * 1024;

/**
 * One xz block for `piece`, compressed as its class asks (`literalPool` is given under the `auto`
 * policy only: `max` means preset 6 for everything):
 * - `compressible` with strong float32 or 16-bit structure (quantised weights): the literal-only
 *   encoder below, nothing stored;
 * - `compressible` with weaker float32 or 16-bit structure: liblzma with the detected lc/lp/pb
 *   and a lighter match search (see {@link weightsWithMatches});
 * - other `compressible` data: LZMA2 with xz preset 6's parameters (normal mode, BT4 match finder, nice
 *   length 64, lc 3 lp 0 pb 2), the dictionary shrunk to the piece: a block never refers outside
 *   itself, so a larger one only costs memory (about 11× the dictionary per encoder);
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
  const { property, size } = dictionaryProperty(Math.min(PRESET_6_DICTIONARY, Math.max(4096, piece.length)));
  const options = decision?.properties === undefined ? { ...PRESET_6, dictSize: size } : weightsWithMatches(decision.properties, size);
  return encodeBlock(await rawLzma2(piece, options), piece, property);
}

/** xz preset 6's LZMA2 parameters, but the dictionary. */
const PRESET_6 = { lc: 3, lp: 0, pb: 2, mode: lzma.MODE_NORMAL, niceLen: 64, mf: lzma.MF_BT4, depth: 0 };

/**
 * Compressible weights with some position structure but too little for literal-only coding:
 * matches pay, so liblzma's normal mode, with the position-aware literal contexts the layout
 * detector chose and a lighter match search (hash chains, nice length 32). On 16.9 MB of
 * quantised TF.js weights (xz 5.4, one core): 0.964-0.969× the size of preset 6 for 0.65-0.76×
 * its time; the short matches of weights gain nothing from preset 6's deeper search.
 */
function weightsWithMatches(properties: LiteralProperties, dictionarySize: number): Record<string, number> {
  return {
    dictSize: dictionarySize,
    lc: properties.literalContextBits,
    lp: properties.literalPositionBits,
    pb: properties.positionBits,
    mode: lzma.MODE_NORMAL,
    niceLen: 32,
    mf: lzma.MF_HC4,
    depth: 0,
  };
}

function rawLzma2(piece: Buffer, options: Record<string, number>): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const encoder = lzma.createStream('rawEncoder', { filters: [{ id: lzma.FILTER_LZMA2, options }], synchronous: false });
    const output: Buffer[] = [];
    encoder.on('data', (chunk: Buffer) => output.push(chunk));
    encoder.on('error', reject);
    encoder.on('end', () => resolve(output));
    encoder.end(piece);
  });
}
