import { Readable } from 'node:stream';
import { seededRandom } from '@bentoport/test-utils';
import lzma from 'lzma-native';
import { afterAll, describe, expect, it } from 'vitest';
import { LiteralEncoderPool } from './literal-encoder-pool.js';
import { encodePiece } from './lzma2-encoder.js';
import { indexAndFooter, streamHeader, type EncodedBlock } from './xz-container.js';

const PIECE = 2 * 1024 * 1024;
const pool = new LiteralEncoderPool(2);
afterAll(() => pool.close());

/** fp16 values of gaussian weights, the mantissa rounded to its top `mantissaBits` bits. */
function quantisedFloat16(mantissaBits: number, seed: number): Buffer {
  const random = seededRandom(seed);
  const scratch = new Float32Array(1);
  const bits = new Uint32Array(scratch.buffer);
  const out = Buffer.alloc(PIECE);
  const mantissaMask = 0x3ff & ~((1 << (10 - mantissaBits)) - 1);
  for (let index = 0; index < PIECE; index += 2) {
    scratch[0] = random.gaussian() * 0.02;
    const word = bits[0] as number;
    const exponent = Math.max(0, Math.min(31, ((word >>> 23) & 0xff) - 112));
    out.writeUInt16LE(((word >>> 16) & 0x8000) | (exponent << 10) | ((word >>> 13) & mantissaMask), index);
  }
  return out;
}

function float32Weights(seed: number): Buffer {
  const random = seededRandom(seed);
  return Buffer.from(new Float32Array(PIECE / 4).map(() => random.gaussian() * 0.02).buffer);
}

async function decoded(block: EncodedBlock): Promise<Buffer> {
  const file = Buffer.concat([streamHeader(), ...block.bytes, indexAndFooter([block.record])]);
  const decoder = lzma.createStream('streamDecoder', { synchronous: false });
  Readable.from([file]).pipe(decoder);
  const parts: Buffer[] = [];
  for await (const part of decoder as AsyncIterable<Buffer>) parts.push(part);
  return Buffer.concat(parts);
}

/** The block header's LZMA2 dictionary property and the first chunk's lc/lp/pb byte (if it sends one). */
function blockProperties(block: EncodedBlock): { dictionary: number; literal: number | undefined } {
  const header = block.bytes[0] as Buffer;
  let at = 2; // size byte, flags
  for (let vli = 0; vli < 2; vli++) while (((header[at++] as number) & 0x80) !== 0);
  const dictionary = header[at + 2] as number; // after filter id 0x21 and properties size 1
  const data = block.bytes[1] as Buffer;
  return { dictionary, literal: (data[0] as number) >= 0xc0 ? (data[5] as number) : undefined };
}

const propertiesByte = (lc: number, lp: number, pb: number) => (pb * 5 + lp) * 9 + lc;

describe('encodePiece under the auto policy (with a literal encoder pool)', () => {
  it('dense float32 weights: literal-only, lc=1 lp=2 pb=2, 4 KiB dictionary', async () => {
    const piece = float32Weights(1);
    const block = await encodePiece(piece, 'dense', () => pool);
    expect(blockProperties(block)).toEqual({ dictionary: 0, literal: propertiesByte(1, 2, 2) });
    expect((await decoded(block)).equals(piece)).toBe(true);
  });

  it('compressible fp16 weights with strong lanes (6 mantissa bits): literal-only, lp=1', async () => {
    const piece = quantisedFloat16(6, 2);
    const block = await encodePiece(piece, 'compressible', () => pool);
    expect(blockProperties(block)).toEqual({ dictionary: 0, literal: propertiesByte(1, 1, 1) });
    expect((await decoded(block)).equals(piece)).toBe(true);
  });

  it('compressible fp16 weights with weaker lanes (4 mantissa bits): binary, so xz preset 0 with lc=1 lp=1 pb=1', async () => {
    const piece = quantisedFloat16(4, 3);
    const block = await encodePiece(piece, 'compressible', () => pool);
    const properties = blockProperties(block);
    expect(properties.dictionary).toBe(12); // 256 KiB, preset 0's
    expect(properties.literal).toBe(propertiesByte(1, 1, 1));
    expect((await decoded(block)).equals(piece)).toBe(true);
  });

  it('text: preset 6 (lc=3 lp=0 pb=2); without a pool (policy max) weights too', async () => {
    const text = Buffer.from('def handler(request):\n    return model.predict(request.json())\n'.repeat(20_000));
    const textBlock = await encodePiece(text, 'compressible', () => pool);
    expect(blockProperties(textBlock).literal).toBe(propertiesByte(3, 0, 2));
    expect((await decoded(textBlock)).equals(text)).toBe(true);
    const weights = quantisedFloat16(6, 4);
    const maxBlock = await encodePiece(weights, 'compressible');
    expect(blockProperties(maxBlock).literal).toBe(propertiesByte(3, 0, 2));
  });

  it('binary compressible data without position structure (int8 weights): plain xz preset 0', async () => {
    const random = seededRandom(6);
    const piece = Buffer.alloc(PIECE);
    for (let index = 0; index < PIECE; index++) piece[index] = Math.round(random.gaussian() * 3) & 0xff;
    const block = await encodePiece(piece, 'compressible', () => pool);
    expect(blockProperties(block)).toEqual({ dictionary: 12, literal: propertiesByte(3, 0, 2) });
    expect((await decoded(block)).equals(piece)).toBe(true);
  });
});
