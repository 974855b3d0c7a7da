import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { isBentoportError } from '@bentoport/spec';
import type { ArchiveEntry } from '@bentoport/spec';
import { describe, expect, it } from 'vitest';
import { cutIntoClassedPieces } from './classed-pieces.js';
import { abortableEncoderOutput } from './encoder-output.js';
import { mapInOrder } from './map-in-order.js';
import { encodeTar, encodeTarSegments } from './tar-encoder.js';
import { entriesOf, noise } from './test-entries.js';

const where = { component: 'format-test', format: 'test' };

async function failureOf(stream: Readable): Promise<unknown> {
  try {
    await buffer(stream);
  } catch (error) {
    return error;
  }
  throw new Error('expected the stream to fail');
}

function file(path: string, size: number, open: () => Readable): ArchiveEntry {
  return { path, type: 'file', mode: 0o644, mtime: 0, size, open };
}

type Encoder = (entries: AsyncIterable<ArchiveEntry> | ArchiveEntry[], signal?: AbortSignal) => Readable;

// The plain tar stream (format-tar's `tar`), and the piece pipeline that every compressing codec
// runs (format-tar's `gz`, format-xz, format-bz2), here with a compressor that copies.
const encoders: Record<string, Encoder> = {
  encodeTar: (entries, signal) => abortableEncoderOutput((stop) => encodeTar(entries, { ...where, signal: stop }), { ...where, signal }),
  'classed pieces in order': (entries, signal) =>
    abortableEncoderOutput(
      (stop) => mapInOrder(cutIntoClassedPieces(encodeTarSegments(entries, { ...where, signal: stop, classify: true }), 1024 * 1024), async (piece) => piece.bytes, 3),
      { ...where, signal },
    ),
};

describe.each(Object.entries(encoders))('%s fails cleanly', (_name, encode) => {
  it('when a body is shorter than its size (ERR_IO)', async () => {
    const error = await failureOf(encode([file('a', 10, () => Readable.from([Buffer.from('short')]))]));
    expect(error).toMatchObject({ code: 'ERR_IO', message: '[format-test] write test: file a delivered 5 bytes, expected 10 (did it change during export?)' });
  });

  it('when a body offered whole is shorter or longer than its size (ERR_IO), never opening it', async () => {
    const whole = (size: number, bytes: string): ArchiveEntry => ({
      ...file('a', size, () => {
        throw new Error('opened a body offered whole');
      }),
      readWhole: () => Buffer.from(bytes),
    });
    expect(await failureOf(encode([whole(10, 'short')]))).toMatchObject({ code: 'ERR_IO', message: '[format-test] write test: file a delivered 5 bytes, expected 10 (did it change during export?)' });
    expect(isBentoportError(await failureOf(encode([whole(2, 'longer')])), 'ERR_IO')).toBe(true);
  });

  it('when a body is longer than its size (ERR_IO)', async () => {
    const error = await failureOf(encode([file('a', 2, () => Readable.from([Buffer.from('longer')]))]));
    expect(isBentoportError(error, 'ERR_IO')).toBe(true);
  });

  it('with the very error of the entry iterator', async () => {
    const boom = new Error('walk failed');
    async function* failing(): AsyncGenerator<ArchiveEntry> {
      yield { path: 'a', type: 'directory', mode: 0o755, mtime: 0, size: 0 };
      throw boom;
    }
    expect(await failureOf(encode(failing()))).toBe(boom);
  });

  it('with the very error of a body', async () => {
    const boom = new Error('disk gone');
    const body = (): Readable =>
      new Readable({
        read() {
          this.destroy(boom);
        },
      });
    expect(await failureOf(encode([file('a', 100, body)]))).toBe(boom);
  });

  it('for an entry of type other (ERR_UNSUPPORTED_FORMAT)', async () => {
    const error = await failureOf(encode([{ path: 'fifo', type: 'other', mode: 0o644, mtime: 0, size: 0 }]));
    expect(isBentoportError(error, 'ERR_UNSUPPORTED_FORMAT')).toBe(true);
  });

  it('when the signal fires, even while a body is stalled (ERR_ABORTED), and stops the body', async () => {
    const controller = new AbortController();
    const stalled = new Readable({ read() {} }); // never produces a byte
    const failure = failureOf(encode([file('a', 100, () => stalled)], controller.signal));
    await sleep(20);
    controller.abort();
    expect(await failure).toMatchObject({ code: 'ERR_ABORTED', message: '[format-test] write test: aborted' });
    await sleep(10);
    expect(stalled.destroyed).toBe(true);
  });

  it('when the signal has already fired', async () => {
    const error = await failureOf(encode([], AbortSignal.abort()));
    expect(isBentoportError(error, 'ERR_ABORTED')).toBe(true);
  });

  it('reads bodies only as fast as the output is consumed', async () => {
    let produced = 0;
    const size = 200 * 1024 * 1024;
    const body = (): Readable =>
      new Readable({
        read() {
          const chunk = Buffer.alloc(Math.min(64 * 1024, size - produced), 1);
          produced += chunk.length;
          this.push(chunk.length > 0 ? chunk : null);
        },
      });
    const output = encode([file('big', size, body)]);
    await new Promise((resolve) => output.once('readable', resolve));
    await sleep(200);
    expect(produced).toBeLessThan(16 * 1024 * 1024);
    output.destroy();
  });
});

describe('encodeTar', () => {
  it('names itself tar when the caller does not say who writes', async () => {
    const error = await (async () => {
      for await (const _bytes of encodeTar([file('a', 3, () => Readable.from([Buffer.from('a')]))]));
    })().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_IO', message: '[tar] write tar: file a delivered 1 bytes, expected 3 (did it change during export?)' });
  });

  it('writes a 10240-byte root-only archive for no entries', async () => {
    const bytes = await buffer(encodeTar([]));
    expect(bytes.length).toBe(10240);
    expect(bytes.subarray(0, 2).toString('latin1')).toBe('./');
  });
});

describe('cutIntoClassedPieces', () => {
  const weights = noise(3 * 1024 * 1024, 9);
  const list = [
    { path: 'a.txt', type: 'file' as const, mode: 0o644, mtime: 1, body: Buffer.alloc(5000, 'text ') },
    { path: 'w.bin', type: 'file' as const, mode: 0o644, mtime: 1, body: weights },
    { path: 'z.txt', type: 'file' as const, mode: 0o644, mtime: 1, body: Buffer.from('z') },
  ];

  it('regroups the tar stream byte for byte, in pieces of at most pieceSize that never straddle a class change', async () => {
    const pieces = [];
    for await (const piece of cutIntoClassedPieces(encodeTarSegments(entriesOf(list), { classify: true }), 1024 * 1024)) pieces.push(piece);
    expect(Buffer.concat(pieces.map((piece) => piece.bytes)).equals(await buffer(encodeTar(entriesOf(list))))).toBe(true);
    expect(pieces.every((piece) => piece.bytes.length > 0 && piece.bytes.length <= 1024 * 1024)).toBe(true);
    // Headers and text, then the noise under its own class, then the rest.
    const classes = pieces.map((piece) => piece.class);
    expect(classes[0]).toBe('compressible');
    expect(classes.at(-1)).toBe('compressible');
    expect(new Set(classes.slice(1, -1)).size).toBe(1);
    expect(classes[1]).toBe('incompressible');
    expect(pieces.slice(1, -1).reduce((sum, piece) => sum + piece.bytes.length, 0)).toBe(weights.length);
  });

  it('rejects a piece size that is not a positive integer', async () => {
    await expect(cutIntoClassedPieces(encodeTarSegments([]), 0).next()).rejects.toThrow(TypeError);
  });
});

describe('mapInOrder', () => {
  it('yields results in source order with at most `concurrency` calls in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const delays = [30, 5, 20, 1, 10, 0, 15];
    async function* source(): AsyncGenerator<number> {
      yield* delays.keys();
    }
    const results: number[] = [];
    for await (const result of mapInOrder(
      source(),
      async (index) => {
        most = Math.max(most, ++inFlight);
        await sleep(delays[index] as number);
        inFlight--;
        return index * 10;
      },
      3,
    )) {
      results.push(result);
    }
    expect(results).toEqual(delays.map((_delay, index) => index * 10));
    expect(most).toBe(3);
  });

  it('fails when the failed call comes up, without an unhandled rejection from the calls after it', async () => {
    const boom = new Error('piece failed');
    async function* source(): AsyncGenerator<number> {
      yield* [0, 1, 2, 3];
    }
    const results: number[] = [];
    const failure = (async () => {
      for await (const result of mapInOrder(source(), async (index) => (index >= 1 ? Promise.reject(index === 1 ? boom : new Error('later')) : index), 4)) {
        results.push(result);
      }
    })().catch((error: unknown) => error);
    expect(await failure).toBe(boom);
    expect(results).toEqual([0]);
  });
});

describe('encodeTar output chunks', () => {
  it('gathers headers and small bodies into few large chunks, and passes large bodies through uncopied', async () => {
    const small = Array.from({ length: 1000 }, (_, index) => file(`src/f${index}.py`, 100, () => Readable.from([Buffer.alloc(100, 97)])));
    const large = Buffer.alloc(4 * 1024 * 1024, 1);
    const chunks: Buffer[] = [];
    for await (const chunk of encodeTar([...small, file('weights.bin', large.length, () => Readable.from([large]))], where)) chunks.push(chunk);
    // 1000 files are 3000 pieces (header, body, padding), about 1 MiB of tar: a handful of chunks.
    expect(chunks.length).toBeLessThan(10);
    expect(chunks.some((chunk) => chunk.buffer === large.buffer)).toBe(true);
    const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    expect(total % 10240).toBe(0);
  });
});
