import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { isBentoportError } from '@bentoport/core';
import type { ArchiveEntry } from '@bentoport/core';
import { describe, expect, it } from 'vitest';
import { tarFormat } from './index.js';
import { entriesFromList, readAll } from './test-tree.js';

const format = tarFormat();

async function failureOf(stream: Readable): Promise<unknown> {
  try {
    await readAll(stream);
  } catch (error) {
    return error;
  }
  throw new Error('expected the stream to fail');
}

function file(path: string, size: number, open: () => Readable): ArchiveEntry {
  return { path, type: 'file', mode: 0o644, mtime: 0, size, open };
}

async function* entries(...list: ArchiveEntry[]): AsyncGenerator<ArchiveEntry> {
  yield* list;
}

describe.each(['tar', 'gz'] as const)('encode %s fails cleanly', (token) => {
  it('when a body is shorter than its size (ERR_IO)', async () => {
    const error = await failureOf(format.encode(entries(file('a', 10, () => Readable.from([Buffer.from('short')]))), { format: token }));
    expect(isBentoportError(error, 'ERR_IO')).toBe(true);
    expect((error as Error).message).toMatch(/^\[format-tar\] write (tar|gz): file a delivered 5 bytes, expected 10/);
  });

  it('when a body is longer than its size (ERR_IO)', async () => {
    const error = await failureOf(format.encode(entries(file('a', 2, () => Readable.from([Buffer.from('longer')]))), { format: token }));
    expect(isBentoportError(error, 'ERR_IO')).toBe(true);
  });

  it('with the very error of the entry iterator', async () => {
    const boom = new Error('walk failed');
    async function* failing(): AsyncGenerator<ArchiveEntry> {
      yield { path: 'a', type: 'directory', mode: 0o755, mtime: 0, size: 0 };
      throw boom;
    }
    expect(await failureOf(format.encode(failing(), { format: token }))).toBe(boom);
  });

  it('with the very error of a body', async () => {
    const boom = new Error('disk gone');
    const body = (): Readable =>
      new Readable({
        read() {
          this.destroy(boom);
        },
      });
    expect(await failureOf(format.encode(entries(file('a', 100, body)), { format: token }))).toBe(boom);
  });

  it('for an entry of type other (ERR_UNSUPPORTED_FORMAT)', async () => {
    const error = await failureOf(format.encode(entries({ path: 'fifo', type: 'other', mode: 0o644, mtime: 0, size: 0 }), { format: token }));
    expect(isBentoportError(error, 'ERR_UNSUPPORTED_FORMAT')).toBe(true);
  });

  it('when the signal fires, even while a body is stalled (ERR_ABORTED), and stops the body', async () => {
    const controller = new AbortController();
    const stalled = new Readable({ read() {} }); // never produces a byte
    const output = format.encode(entries(file('a', 100, () => stalled)), { format: token, signal: controller.signal });
    const failure = failureOf(output);
    await sleep(20);
    controller.abort();
    expect(isBentoportError(await failure, 'ERR_ABORTED')).toBe(true);
    await sleep(10);
    expect(stalled.destroyed).toBe(true);
  });

  it('when the signal has already fired', async () => {
    const error = await failureOf(format.encode(entriesFromList([]), { format: token, signal: AbortSignal.abort() }));
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
    const output = format.encode(entries(file('big', size, body)), { format: token });
    await new Promise((resolve) => output.once('readable', resolve));
    await sleep(200);
    expect(produced).toBeLessThan(16 * 1024 * 1024);
    output.destroy();
  });
});

describe('encode argument checks', () => {
  it('throws ERR_UNSUPPORTED_FORMAT synchronously for a token it does not write', () => {
    expect(() => format.encode(entriesFromList([]), { format: 'xz' })).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_FORMAT' }));
  });

  it('rejects out-of-range options with ERR_INVALID_OPTION', () => {
    expect(() => tarFormat({ gzipLevel: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(() => tarFormat({ gzipLevel: 10 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(() => tarFormat({ concurrency: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  });

  it('declares what it is', () => {
    expect(format).toMatchObject({
      apiVersion: 1,
      name: 'format-tar',
      formats: ['tar', 'gz'],
      capabilities: { randomAccessDecode: false, symlinks: true, hardlinks: true, reproducible: true },
    });
  });
});
