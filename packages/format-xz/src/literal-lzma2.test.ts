import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { hasPython, python, seededRandom } from '@bentoport/test-utils';
import lzma from 'lzma-native';
import { describe, expect, it } from 'vitest';
import { encodeLiteralLzma2, LiteralLzma2Encoder, literalEncoderSource } from './literal-lzma2.js';
import type { LiteralProperties } from './literal-lzma2.js';
import { encodeBlock, indexAndFooter, streamHeader } from './xz-container.js';

const FLOAT32: LiteralProperties = { literalContextBits: 1, literalPositionBits: 2, positionBits: 2 };
const SIXTEEN_BIT: LiteralProperties = { literalContextBits: 1, literalPositionBits: 1, positionBits: 1 };
const CHUNK = LiteralLzma2Encoder.CHUNK_BYTES;

const hasXz = spawnSync('xz', ['--version'], { stdio: 'ignore' }).status === 0;
const hasPythonLzma = hasPython(['lzma']);
const XZ_MISSING = 'xz is not installed: apt-get install xz-utils';
const PYTHON_MISSING = 'python3 with lzma is not installed: apt-get install python3';

/** Seeded gaussian float32 values (deviation 0.02), as the sample bento's weights. */
function float32Weights(length: number, seed = 1): Buffer {
  const random = seededRandom(seed);
  const values = new Float32Array(Math.ceil(length / 4));
  for (let index = 0; index < values.length; index++) values[index] = random.gaussian() * 0.02;
  return Buffer.from(values.buffer, 0, length);
}

/** bf16-like values: the high halves of seeded float32 weights. */
function sixteenBitWeights(length: number, seed = 2): Buffer {
  const floats = float32Weights(length * 2, seed);
  const out = Buffer.alloc(length);
  for (let index = 0; index + 1 < length; index += 2) floats.copy(out, index, index * 2 + 2, index * 2 + 4);
  return out;
}

/** A one-block xz file around the LZMA2 data, as the format writes it (dictionary property 0). */
function xzFile(lzma2: Uint8Array, input: Buffer): Buffer {
  const block = encodeBlock([Buffer.from(lzma2.buffer, lzma2.byteOffset, lzma2.byteLength)], input, 0);
  return Buffer.concat([streamHeader(), ...block.bytes, indexAndFooter([block.record])]);
}

/** Decoded by liblzma 5.2 as bundled in lzma-native. */
async function liblzmaDecode(file: Buffer): Promise<Buffer> {
  const decoder = lzma.createStream('streamDecoder', { synchronous: false });
  Readable.from([file]).pipe(decoder);
  const parts: Buffer[] = [];
  for await (const part of decoder as AsyncIterable<Buffer>) parts.push(part);
  return Buffer.concat(parts);
}

async function expectRoundTrip(input: Buffer, properties: LiteralProperties, storedFraction = 0): Promise<Uint8Array> {
  const encoded = encodeLiteralLzma2(input, { properties, storedFraction });
  const file = xzFile(encoded, input);
  expect((await liblzmaDecode(file)).equals(input)).toBe(true);
  return encoded;
}

describe('literal-only LZMA2 encoder', () => {
  it('codes float32 weights smaller than their size, and liblzma decodes them byte for byte', async () => {
    const input = float32Weights(3 * CHUNK + 123);
    const encoded = await expectRoundTrip(input, FLOAT32);
    // Seeded gaussian float32 values code to about 84% with position-aware literals.
    expect(encoded.length / input.length).toBeLessThan(0.9);
  });

  it('codes 16-bit weights with lp=1', async () => {
    const input = sixteenBitWeights(2 * CHUNK + 10);
    const encoded = await expectRoundTrip(input, SIXTEEN_BIT);
    expect(encoded.length / input.length).toBeLessThan(0.95);
  });

  it('stores random bytes (coding would not make them smaller): exactly the stored size', async () => {
    const input = randomBytes(2 * CHUNK + 7);
    const encoded = await expectRoundTrip(input, FLOAT32);
    expect(encoded.length).toBe(LiteralLzma2Encoder.maxEncodedLength(input.length));
  });

  it('codes constant bytes to about 1/40 (nine bits a byte at the probabilities\' floor, 31/2048)', async () => {
    const input = Buffer.alloc(5 * CHUNK, 0x42);
    const encoded = await expectRoundTrip(input, FLOAT32);
    expect(encoded.length).toBeLessThan(input.length / 30);
  });

  it.each([0, 1, 3, 4, 5, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5])('round-trips %i bytes (chunk boundaries)', async (length) => {
    await expectRoundTrip(float32Weights(length), FLOAT32);
  });

  it('an empty input is the end marker alone', () => {
    expect([...encodeLiteralLzma2(new Uint8Array(0), { properties: FLOAT32, storedFraction: 0 })]).toEqual([0x00]);
  });

  it.each([1 / 3, 0.5, 1])('stores the scheduled fraction %f of chunks, the rest still decodes', async (fraction) => {
    const input = float32Weights(12 * CHUNK);
    const plain = encodeLiteralLzma2(input, { properties: FLOAT32, storedFraction: 0 });
    const mixed = await expectRoundTrip(input, FLOAT32, fraction);
    const storedChunks = Math.round(12 * fraction);
    // Each stored chunk costs what coding it saved; a coded chunk after a stored one continues
    // with the same probabilities (no state reset), so the rest codes as before.
    expect(mixed.length).toBeGreaterThan(plain.length);
    if (fraction === 1) expect(mixed.length).toBe(LiteralLzma2Encoder.maxEncodedLength(input.length));
    const storedControls = countStoredChunks(mixed);
    expect(storedControls).toBe(storedChunks);
  });

  it('a stored first chunk (not worth coding) is followed by a coded chunk that resets state and sends properties', async () => {
    const input = Buffer.concat([randomBytes(CHUNK), float32Weights(2 * CHUNK), randomBytes(CHUNK), Buffer.alloc(CHUNK, 7)]);
    const encoded = await expectRoundTrip(input, FLOAT32);
    expect(encoded[0]).toBe(0x01);
    expect(encoded[3 + CHUNK]).toBe(0xc0);
  });

  it('rejects properties LZMA2 cannot carry', () => {
    expect(() => encodeLiteralLzma2(Buffer.alloc(1), { properties: { literalContextBits: 3, literalPositionBits: 2, positionBits: 2 }, storedFraction: 0 })).toThrow(RangeError);
    expect(() => encodeLiteralLzma2(Buffer.alloc(1), { properties: { literalContextBits: 0, literalPositionBits: 0, positionBits: 5 }, storedFraction: 0 })).toThrow(RangeError);
  });

  it('the class rebuilt from its source text (as workers do) encodes identically', () => {
    const Rebuilt = new Function(`return ${literalEncoderSource()};`)() as typeof LiteralLzma2Encoder;
    const input = float32Weights(CHUNK + 99);
    const expected = encodeLiteralLzma2(input, { properties: FLOAT32, storedFraction: 0.25 });
    expect(Buffer.from(new Rebuilt(FLOAT32).encode(input, 0.25)).equals(Buffer.from(expected))).toBe(true);
  });

  it.skipIf(!hasXz)('xz -d (liblzma 5.4) decodes every kind of chunk byte for byte', () => {
    const input = Buffer.concat([float32Weights(3 * CHUNK), randomBytes(CHUNK), sixteenBitWeights(CHUNK), Buffer.alloc(CHUNK + 3)]);
    for (const properties of [FLOAT32, SIXTEEN_BIT]) {
      const file = xzFile(encodeLiteralLzma2(input, { properties, storedFraction: 1 / 3 }), input);
      execFileSync('xz', ['-t'], { input: file });
      expect(execFileSync('xz', ['-dc'], { input: file, maxBuffer: 64 * 1024 * 1024 }).equals(input)).toBe(true);
    }
  });
  it.skipIf(hasXz)(`xz -d cross-check skipped: ${XZ_MISSING}`, () => undefined);

  it.skipIf(!hasPythonLzma)("Python's lzma decodes it byte for byte", async () => {
    const input = Buffer.concat([float32Weights(2 * CHUNK + 1), randomBytes(CHUNK)]);
    const file = xzFile(encodeLiteralLzma2(input, { properties: FLOAT32, storedFraction: 1 / 3 }), input);
    const digest = await python('import hashlib, lzma, sys; print(hashlib.sha256(lzma.decompress(sys.stdin.buffer.read())).hexdigest())', [], { input: file });
    const { createHash } = await import('node:crypto');
    expect(digest.trim()).toBe(createHash('sha256').update(input).digest('hex'));
  });
  it.skipIf(hasPythonLzma)(`Python lzma cross-check skipped: ${PYTHON_MISSING}`, () => undefined);
});

/** How many LZMA2 uncompressed chunks (control 0x01 or 0x02) the data holds, walking the chunk headers. */
function countStoredChunks(lzma2: Uint8Array): number {
  let count = 0;
  let at = 0;
  while (lzma2[at] !== 0x00) {
    const control = lzma2[at] as number;
    if (control === 0x01 || control === 0x02) {
      count++;
      at += 3 + (((lzma2[at + 1] as number) << 8) | (lzma2[at + 2] as number)) + 1;
    } else {
      const compressed = (((lzma2[at + 3] as number) << 8) | (lzma2[at + 4] as number)) + 1;
      at += (control >= 0xc0 ? 6 : 5) + compressed;
    }
  }
  return count;
}
