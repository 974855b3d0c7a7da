import { execFileSync } from 'node:child_process';
import { seededRandom } from '@bentoport/test-utils';
import { describe, expect, it } from 'vitest';
import { PIECE_LIMIT } from './bzip2-block-boundaries.js';
import { bzip2Encode } from './bzip2-encoder.js';

/** Seeded bytes that are `random` part noise, the rest words and runs of one byte. */
function sampleBytes(size: number, seed: number, noise = 0.1): Buffer {
  const random = seededRandom(seed);
  const bytes = Buffer.alloc(size);
  let offset = 0;
  while (offset < size) {
    const end = Math.min(size, offset + random.integer(1, 5_000));
    const kind = random.next();
    if (kind < noise) while (offset < end) bytes[offset++] = random.integer(0, 255);
    else if (kind < 0.5) offset = end; // zeros, as in tar padding
    else while (offset < end) offset += bytes.write('tensor weights layer ', offset, 'latin1');
  }
  return bytes;
}

async function* chunksOf(input: Buffer, chunkSize: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < input.length; offset += chunkSize) yield input.subarray(offset, offset + chunkSize);
}

async function encode(input: Buffer, chunkSize = 65_536, workers = 2): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of bzip2Encode(chunksOf(input, chunkSize), workers)) parts.push(part);
  return Buffer.concat(parts);
}

function systemBzip2(input: Buffer, ...flags: string[]): Buffer {
  return execFileSync('bzip2', [...flags, '-c'], { input, maxBuffer: 1 << 30 });
}

function pythonBz2Decompress(compressed: Buffer): Buffer {
  return execFileSync('python3', ['-c', 'import bz2, sys; sys.stdout.buffer.write(bz2.decompress(sys.stdin.buffer.read()))'], { input: compressed, maxBuffer: 1 << 30 });
}

function runs(command: string, ...args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const hasBzip2 = runs('bzip2', '--help');
const hasPython = runs('python3', '-c', 'import bz2');

describe.skipIf(!hasBzip2)('bzip2Encode (needs bzip2: apt-get install -y bzip2)', () => {
  it('writes the bytes bzip2 -9 writes, whatever the chunking and the number of workers', async () => {
    const inputs = {
      empty: Buffer.alloc(0),
      'one byte': Buffer.from('x'),
      'a full block exactly': sampleBytes(899_981, 1, 1),
      'a full block and one byte': sampleBytes(899_982, 2, 1),
      'three blocks and a half of mixed data': sampleBytes(3_300_000, 3),
    };
    for (const [name, input] of Object.entries(inputs)) {
      const expected = systemBzip2(input, '-9');
      for (const [chunkSize, workers] of [[65_536, 2], [1, 1], [1_000_003, 3]] as const) {
        if (chunkSize === 1 && input.length > 100_000) continue;
        expect((await encode(input, chunkSize, workers)).equals(expected), `${name}, chunks of ${chunkSize}, ${workers} workers`).toBe(true);
      }
    }
  });

  it.skipIf(!hasPython)('cuts runs of one byte at the piece limit: more blocks than bzip2 -9, read by bzip2 -d and Python bz2 (needs apt-get install -y python3)', async () => {
    const input = Buffer.concat([Buffer.alloc(5 * PIECE_LIMIT + 1234), sampleBytes(400_000, 4), Buffer.alloc(PIECE_LIMIT, 7)]);
    const ours = await encode(input);
    execFileSync('bzip2', ['-t'], { input: ours });
    expect(systemBzip2(ours, '-d').equals(input)).toBe(true);
    expect(pythonBz2Decompress(ours).equals(input)).toBe(true);
    // A few dozen bytes per extra block on data that compresses 10,000 to 1.
    expect(ours.length).toBeLessThan(systemBzip2(input, '-9').length + 1_000);
  });
});
