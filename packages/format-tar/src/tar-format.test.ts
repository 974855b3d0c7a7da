/**
 * The plugin around @bentoport/tar: its arguments, its name in messages, and the `gz` pipeline
 * (parallel gzip) failing and pacing itself as the plain tar stream does. The tar framing, and
 * the piece pipeline's failures and aborts, are tested in @bentoport/tar.
 */
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { apiVersion, isBentoportError } from '@bentoport/spec';
import type { ArchiveEntry } from '@bentoport/spec';
import { describe, expect, it } from 'vitest';
import { tarFormat } from './index.js';
import { bufferSource, collectEntries, entriesFromList, readAll } from './test-tree.js';

const format = tarFormat();

function file(path: string, size: number, open: () => Readable): ArchiveEntry {
  return { path, type: 'file', mode: 0o644, mtime: 0, size, open };
}

async function* entries(...list: ArchiveEntry[]): AsyncGenerator<ArchiveEntry> {
  yield* list;
}

async function failureOf(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => new Error('expected a failure'),
    (error: unknown) => error,
  );
}

describe('tarFormat', () => {
  it('declares what it is', () => {
    expect(format).toMatchObject({
      apiVersion,
      name: 'format-tar',
      formats: ['tar', 'gz'],
      capabilities: { randomAccessDecode: false, symlinks: true, hardlinks: true, reproducible: true },
    });
  });

  it('rejects out-of-range options with ERR_INVALID_OPTION naming the option, wrong types with a TypeError', () => {
    expect(() => tarFormat({ gzipLevel: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: '[format-tar] options.gzipLevel must be an integer from 1 to 9, got 0' }));
    expect(() => tarFormat({ gzipLevel: 10 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: '[format-tar] options.gzipLevel must be an integer from 1 to 9, got 10' }));
    expect(() => tarFormat({ concurrency: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(() => tarFormat({ concurrency: '2' as never })).toThrow(TypeError);
    expect(() => tarFormat(null as never)).toThrow(TypeError);
  });

  it('throws ERR_UNSUPPORTED_FORMAT synchronously for a token it does not handle, ERR_INVALID_OPTION for an unknown policy', () => {
    expect(() => format.encode(entriesFromList([]), { format: 'xz' })).toThrow(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_FORMAT', message: '[format-tar] write xz: format-tar handles only tar and gz' }),
    );
    expect(() => format.decode(bufferSource(Buffer.alloc(0)), { format: 'zip' })).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_FORMAT' }));
    expect(() => format.encode(entriesFromList([]), { format: 'gz', compression: 'fast' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  });
});

describe('decode gz', () => {
  it('names format-tar and the token when the archive is cut short', async () => {
    const bytes = await readAll(format.encode(entriesFromList([{ path: 'a.txt', type: 'file', mode: 0o644, mtime: 0, body: Buffer.alloc(50_000, 'abc') }]), { format: 'gz' }));
    const error = await failureOf(collectEntries(format.decode(bufferSource(bytes.subarray(0, bytes.length - 20)), { format: 'gz' })));
    expect(isBentoportError(error, 'ERR_CORRUPT_ARCHIVE')).toBe(true);
    expect((error as Error).message).toMatch(/^\[format-tar\] read gz: /);
  });

  it('stops with ERR_ABORTED naming format-tar when the signal has fired', async () => {
    const error = await failureOf(collectEntries(format.decode(bufferSource(Buffer.alloc(1024)), { format: 'gz', signal: AbortSignal.abort() })));
    expect(error).toMatchObject({ code: 'ERR_ABORTED', message: '[format-tar] read gz: aborted' });
  });
});

describe('encode gz', () => {
  it('fails with ERR_IO naming format-tar when a body is shorter than its size', async () => {
    const error = await failureOf(readAll(format.encode(entries(file('a', 10, () => Readable.from([Buffer.from('short')]))), { format: 'gz' })));
    expect(error).toMatchObject({ code: 'ERR_IO', message: '[format-tar] write gz: file a delivered 5 bytes, expected 10 (did it change during export?)' });
  });

  it('fails with ERR_ABORTED naming format-tar when the signal has fired', async () => {
    const error = await failureOf(readAll(format.encode(entriesFromList([]), { format: 'gz', signal: AbortSignal.abort() })));
    expect(error).toMatchObject({ code: 'ERR_ABORTED', message: '[format-tar] write gz: aborted' });
  });

  it('reads bodies only as fast as the compressed output is consumed', async () => {
    let produced = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      for (;;) {
        produced += 65_536;
        yield Buffer.alloc(65_536, 1);
      }
    }
    const output = format.encode(entries(file('big', 200 * 1024 * 1024, () => Readable.from(endless()))), { format: 'gz' });
    await once(output, 'readable');
    await sleep(200);
    expect(produced).toBeLessThan(16 * 1024 * 1024);
    output.destroy();
  });
});
