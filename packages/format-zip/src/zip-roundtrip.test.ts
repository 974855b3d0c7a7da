import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ArchiveEntry, CompressionPolicy } from '@bentoport/spec';
import { zipFormat } from './index.js';
import type { EntrySpec } from './test-helpers.js';
import { FIXED_MTIME, bufferSource, collect, decodeAll, entriesFrom } from './test-helpers.js';

/** Compressible but not trivial: text with some variety. */
function textBody(length: number, seed: number): Buffer {
  const words = ['bento', 'model', 'service', 'runner', 'weights', 'tensor', 'yaml', 'python'];
  let state = seed;
  let text = '';
  while (text.length < length) {
    state = (state * 1103515245 + 12345) >>> 0;
    text += `${words[state % words.length]}${state % 7 === 0 ? '\n' : ' '}`;
  }
  return Buffer.from(text.slice(0, length));
}

const sampleTree: EntrySpec[] = [
  { path: 'README.md', content: '# sample bento\n', mode: 0o644 },
  { path: 'apis', mode: 0o755 },
  { path: 'apis/openapi.yaml', content: textBody(5000, 1), mode: 0o600 },
  { path: 'bento.yaml', content: 'service: svc:Service\nname: sample\n', mode: 0o644 },
  { path: 'empty-dir', mode: 0o700 },
  { path: 'env', mode: 0o755 },
  { path: 'env/docker', mode: 0o755 },
  { path: 'env/docker/entrypoint.sh', content: '#!/bin/sh\nexec "$@"\n', mode: 0o755 },
  { path: 'models', mode: 0o755 },
  { path: 'models/empty.bin', content: Buffer.alloc(0), mode: 0o644 },
  { path: 'models/weights.bin', content: randomBytes(300_000), mode: 0o640, mtime: 1_600_000_000 },
  { path: 'models/text.txt', content: textBody(700_000, 2), mode: 0o644 },
  { path: 'src', mode: 0o755 },
  { path: 'src/ünïcödé-名前.py', content: 'print("hi")\n', mode: 0o644 },
  { path: 'src/日本語', mode: 0o755 },
];

function expectSameEntries(decoded: Awaited<ReturnType<typeof decodeAll>>, specs: EntrySpec[]): void {
  expect(decoded.map((entry) => entry.path)).toEqual(specs.map((spec) => spec.path));
  for (const [index, spec] of specs.entries()) {
    const entry = decoded[index];
    const isDirectory = spec.content === undefined;
    expect(entry?.type).toBe(isDirectory ? 'directory' : 'file');
    expect(entry?.mode).toBe(spec.mode);
    expect(entry?.mtime).toBe(Math.floor(spec.mtime ?? FIXED_MTIME));
    if (!isDirectory) {
      const content = Buffer.from(spec.content ?? '');
      expect(entry?.size).toBe(content.length);
      expect(entry?.content?.equals(content)).toBe(true);
    }
  }
}

describe('zip round trip', () => {
  for (const compression of ['store', 'auto', 'max'] as CompressionPolicy[]) {
    it(`keeps paths, types, modes, mtimes and bodies with compression "${compression}"`, async () => {
      // Small pieces so that multi-piece deflate streams (dictionary chaining) are exercised.
      const zip = zipFormat({ deflatePieceSize: 64 * 1024 });
      const archive = await collect(zip.encode(entriesFrom(sampleTree), { format: 'zip', compression }));
      expectSameEntries(await decodeAll(zip, bufferSource(archive)), sampleTree);
    });
  }

  it('compresses with auto and max, and stores with store', async () => {
    const zip = zipFormat();
    const sizes: Record<string, number> = {};
    for (const compression of ['store', 'auto', 'max'] as CompressionPolicy[]) {
      sizes[compression] = (await collect(zip.encode(entriesFrom(sampleTree), { format: 'zip', compression }))).length;
    }
    const bodies = sampleTree.reduce((total, spec) => total + Buffer.from(spec.content ?? '').length, 0);
    expect(sizes.store).toBeGreaterThan(bodies);
    expect(sizes.auto).toBeLessThan(bodies * 0.6);
    expect(sizes.max).toBeLessThanOrEqual(sizes.auto as number);
  });

  it('decodes the same entries whatever the deflate piece size and concurrency', async () => {
    const big: EntrySpec[] = [{ path: 'big.txt', content: textBody(3_000_000, 3) }];
    const one = await collect(zipFormat({ deflatePieceSize: 32 * 1024, concurrency: 1 }).encode(entriesFrom(big), { format: 'zip' }));
    const many = await collect(zipFormat({ deflatePieceSize: 32 * 1024, concurrency: 8 }).encode(entriesFrom(big), { format: 'zip' }));
    expect(one.equals(many)).toBe(true);
    expectSameEntries(await decodeAll(zipFormat(), bufferSource(one)), big.map((spec) => ({ ...spec, mode: 0o644 })));
  });

  it('writes an empty archive that decodes to no entries', async () => {
    const zip = zipFormat();
    const archive = await collect(zip.encode(entriesFrom([]), { format: 'zip' }));
    expect(archive.length).toBe(22);
    expect(zip.sniff(archive)).toBe('zip');
    expect(await decodeAll(zip, bufferSource(archive))).toEqual([]);
  });

  it('lays entries out like Python zipfile: no ./ prefix, stored directories with /, deflated files', async () => {
    const zip = zipFormat();
    const archive = await collect(zip.encode(entriesFrom(sampleTree.slice(0, 3)), { format: 'zip' }));
    // First local header: README.md, deflated (8), data descriptor + no UTF-8 flag.
    expect(archive.readUInt32LE(0)).toBe(0x04034b50);
    expect(archive.readUInt16LE(6)).toBe(0x0008);
    expect(archive.readUInt16LE(8)).toBe(8);
    expect(archive.subarray(30, 30 + 9).toString()).toBe('README.md');
    const directoryHeader = archive.indexOf(Buffer.from('apis/'), 0) - 30;
    expect(archive.readUInt32LE(directoryHeader)).toBe(0x04034b50);
    expect(archive.readUInt16LE(directoryHeader + 8)).toBe(0); // stored
    expect(archive.readUInt32LE(directoryHeader + 18)).toBe(0); // no body
    expect(archive.includes(Buffer.from('./'))).toBe(false);
  });

  it('reads bodies in order and skips bodies that are never opened', async () => {
    const zip = zipFormat();
    const archive = await collect(zip.encode(entriesFrom(sampleTree), { format: 'zip' }));
    const seen: string[] = [];
    for await (const entry of zip.decode(bufferSource(archive), { format: 'zip' })) {
      if (entry.path === 'bento.yaml' && entry.open) seen.push((await collect(entry.open())).toString());
      else seen.push(entry.path);
    }
    expect(seen).toContain('service: svc:Service\nname: sample\n');
    expect(seen).toHaveLength(sampleTree.length);
  });

  it('reads a normal zip with three ranged reads: end record, central directory, all entries', async () => {
    const zip = zipFormat();
    const archive = await collect(zip.encode(entriesFrom(sampleTree), { format: 'zip' }));
    const inner = bufferSource(archive);
    const ranges: Array<[number, number]> = [];
    const source = { ...inner, readRange: (start: number, end: number) => (ranges.push([start, end]), (inner.readRange as (s: number, e: number) => Readable)(start, end)) };
    expectSameEntries(await decodeAll(zip, source), sampleTree);
    expect(ranges).toHaveLength(3);
  });

  it('produces the next entry correctly after a body was abandoned half-read', async () => {
    const zip = zipFormat();
    const archive = await collect(zip.encode(entriesFrom(sampleTree), { format: 'zip' }));
    const paths: string[] = [];
    let lastBody: Buffer | undefined;
    for await (const entry of zip.decode(bufferSource(archive, 1000), { format: 'zip' })) {
      paths.push(entry.path);
      if (entry.path === 'models/text.txt' && entry.open) {
        const body = entry.open();
        for await (const chunk of body) {
          void chunk;
          break; // destroys the body after its first chunk
        }
      }
      if (entry.path === 'src/ünïcödé-名前.py' && entry.open) lastBody = await collect(entry.open());
    }
    expect(paths).toEqual(sampleTree.map((spec) => spec.path));
    expect(lastBody?.toString()).toBe('print("hi")\n');
  });

  it('refuses symlink and hardlink entries with a coded error that destroys the output', async () => {
    const zip = zipFormat();
    for (const type of ['symlink', 'hardlink'] as const) {
      const output = zip.encode(entriesFrom([{ path: 'a', content: 'x' }, { path: 'link', type, linkTarget: 'a' }]), { format: 'zip' });
      await expect(collect(output)).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_FORMAT' });
      expect(output.destroyed).toBe(true);
    }
  });

  it('refuses a body that is longer or shorter than the entry size', async () => {
    const zip = zipFormat();
    for (const actual of [Buffer.from('twelve bytes'), Buffer.from('ten bytes!'), Buffer.alloc(0)]) {
      const entries = (async function* () {
        yield { path: 'f', type: 'file' as const, mode: 0o644, mtime: 0, size: 11, open: () => Readable.from([actual], { objectMode: false }) };
      })();
      await expect(collect(zip.encode(entries, { format: 'zip' }))).rejects.toMatchObject({ code: 'ERR_IO' });
      // The same body offered whole (readWhole) is checked alike.
      const whole = (async function* () {
        yield { path: 'f', type: 'file' as const, mode: 0o644, mtime: 0, size: 11, readWhole: () => actual };
      })();
      await expect(collect(zip.encode(whole, { format: 'zip' }))).rejects.toMatchObject({ code: 'ERR_IO' });
    }
  });

  it('offers small bodies whole as well as streamed, one or the other', async () => {
    const zip = zipFormat();
    const archive = await collect(zip.encode(entriesFrom([{ path: 'a.txt', content: 'whole or streamed\n' }, { path: 'b.txt', content: 'second' }]), { format: 'zip' }));
    const bodies: string[] = [];
    for await (const entry of zip.decode(bufferSource(archive), { format: 'zip' })) {
      if (entry.path === 'a.txt') {
        bodies.push((await entry.readWhole?.())?.toString() ?? 'not offered');
        expect(() => entry.open?.()).toThrow(TypeError);
      } else {
        bodies.push((await collect(entry.open?.() as Readable)).toString());
        expect(() => entry.readWhole?.()).toThrow(TypeError);
      }
    }
    expect(bodies).toEqual(['whole or streamed\n', 'second']);
  });

  it('writes bodies offered whole as it writes streamed ones', async () => {
    const zip = zipFormat();
    const body = Buffer.from('the same bytes either way\n');
    const entry = { path: 'f.txt', type: 'file' as const, mode: 0o644, mtime: 1_700_000_000, size: body.length };
    const one = async function* (only: ArchiveEntry) {
      yield only;
    };
    const streamed = await collect(zip.encode(one({ ...entry, open: () => Readable.from([body], { objectMode: false }) }), { format: 'zip' }));
    const whole = await collect(zip.encode(one({ ...entry, readWhole: () => body }), { format: 'zip' }));
    expect(whole.equals(streamed)).toBe(true);
  });

  it('rejects a wrong format token and bad options with coded errors', () => {
    const zip = zipFormat();
    expect(() => zip.encode(entriesFrom([]), { format: 'gz' })).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_FORMAT' }));
    expect(() => zip.decode(bufferSource(Buffer.alloc(22)), { format: 'tar' })).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_FORMAT' }));
    expect(() => zipFormat({ deflatePieceSize: 10 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(() => zipFormat({ concurrency: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(() => zip.encode(entriesFrom([]), { format: 'zip', compression: 'fast' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  });

  it('declares what it is', () => {
    const zip = zipFormat();
    expect(zip).toMatchObject({
      apiVersion: 1,
      name: 'format-zip',
      formats: ['zip'],
      capabilities: { randomAccessDecode: true, symlinks: false, hardlinks: false, reproducible: true },
    });
  });
});
