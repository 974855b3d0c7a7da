import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGunzip, gzipSync } from 'node:zlib';
import { BentoportError, isBentoportError } from '@bentoport/spec';
import type { ArchiveEntry } from '@bentoport/spec';
import { makeScratchDir, python, removeScratchDirs } from '@bentoport/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeTar, normaliseMemberName, type DecodeTarOptions } from './tar-decoder.js';
import { encodeTar } from './tar-encoder.js';
import { entriesOf, noise, readEntries, sourceOf, type DecodedEntry, type EntrySpec } from './test-entries.js';

afterAll(removeScratchDirs);

const sample: EntrySpec[] = [
  { path: 'a.txt', type: 'file', mode: 0o644, mtime: 1_700_000_000, body: Buffer.alloc(3000, 'the quick brown fox\n') },
  { path: 'dir', type: 'directory', mode: 0o755, mtime: 1_700_000_000 },
  { path: 'dir/big.bin', type: 'file', mode: 0o644, mtime: 1_700_000_000, body: noise(2_000_000, 2) },
  { path: 'dir/z.txt', type: 'file', mode: 0o600, mtime: 1_700_000_000, body: Buffer.from('last') },
];

async function sampleTar(): Promise<Buffer> {
  return buffer(encodeTar(entriesOf(sample)));
}

async function failureOf(entries: AsyncIterable<ArchiveEntry>): Promise<unknown> {
  try {
    await readEntries(entries);
  } catch (error) {
    return error;
  }
  throw new Error('expected decoding to fail');
}

/** A tar that Python's tarfile writes with `script` (which calls `add(name, type, data, linkname)`). */
async function pythonTar(script: string, format = 'PAX_FORMAT'): Promise<Buffer> {
  const file = join(await makeScratchDir('tar-decoder'), 'python.tar');
  await python(
    `import io, sys, tarfile
with tarfile.open(sys.argv[1], mode='w', format=tarfile.${format}) as tar:
    def add(name, type=tarfile.REGTYPE, data=b'', linkname=''):
        info = tarfile.TarInfo(name)
        info.type = type
        info.size = len(data)
        info.linkname = linkname
        info.mtime = 1700000000
        tar.addfile(info, io.BytesIO(data) if data else None)
${script}`,
    [file],
  );
  return readFile(file);
}

// The same decoder behind no decompressor (format-tar's `tar`) and behind one (its `gz`, and
// every compressing format): each must fail, skip and stop alike.
const framings = [
  { format: 'tar', wrap: (tar: Buffer): Buffer => tar, decompress: undefined },
  { format: 'gz', wrap: (tar: Buffer): Buffer => gzipSync(tar), decompress: () => createGunzip() },
];

describe.each(framings)('decodeTar behind $format', ({ format, wrap, decompress }) => {
  const options: DecodeTarOptions = { component: 'format-test', format, ...(decompress ? { decompress } : {}) };
  const decode = (bytes: Uint8Array, extra: DecodeTarOptions = {}) => decodeTar(sourceOf(bytes), { ...options, ...extra });

  it('reads back what encodeTar wrote', async () => {
    const decoded = await readEntries(decode(wrap(await sampleTar())));
    // Bodies as digests: toEqual walks a Buffer byte by byte, which takes seconds for 2 MB.
    const digested = (entries: DecodedEntry[]) => entries.map(({ body, ...entry }) => ({ ...entry, body: body && createHash('sha256').update(body).digest('hex') }));
    expect(digested(decoded)).toEqual(digested(sample.map((spec) => ({ ...spec, size: spec.body?.length ?? 0 }))));
  });

  it('rejects a truncated archive with ERR_CORRUPT_ARCHIVE naming the component and format', async () => {
    const bytes = wrap(await sampleTar());
    for (const length of [100, 1500, Math.floor(bytes.length / 2)]) {
      const error = await failureOf(decode(bytes.subarray(0, length)));
      expect(isBentoportError(error, 'ERR_CORRUPT_ARCHIVE')).toBe(true);
      expect((error as Error).message).toMatch(new RegExp(`^\\[format-test\\] read ${format}: `));
    }
  });

  it('rejects garbage and empty input with ERR_CORRUPT_ARCHIVE', async () => {
    for (const bytes of [noise(8192, 5), Buffer.alloc(0), Buffer.from('hello, this is not an archive')]) {
      expect(isBentoportError(await failureOf(decode(bytes)), 'ERR_CORRUPT_ARCHIVE')).toBe(true);
    }
  });

  it('skips bodies nobody opened, and bodies destroyed half-read', async () => {
    const paths: string[] = [];
    let lastBody = '';
    for await (const entry of decode(wrap(await sampleTar()))) {
      paths.push(entry.path);
      if (entry.path === 'dir/big.bin') {
        const body = entry.open?.();
        await new Promise((resolve) => body?.once('readable', resolve));
        body?.read(1000);
        body?.destroy();
      }
      if (entry.path === 'dir/z.txt') lastBody = (await buffer(entry.open?.() as Readable)).toString();
    }
    expect(paths).toEqual(['a.txt', 'dir', 'dir/big.bin', 'dir/z.txt']);
    expect(lastBody).toBe('last');
  });

  it('does not read ahead of the body being consumed', async () => {
    const bytes = wrap(await sampleTar());
    let pulled = 0;
    const source = {
      stream: () =>
        Readable.from(
          (function* () {
            for (let start = 0; start < bytes.length; start += 16_384) {
              pulled += Math.min(16_384, bytes.length - start);
              yield bytes.subarray(start, start + 16_384);
            }
          })(),
        ),
    };
    const iterator = decodeTar(source, options)[Symbol.asyncIterator]();
    await iterator.next(); // a.txt
    await iterator.next(); // dir
    const big = (await iterator.next()).value as ArchiveEntry;
    expect(big.path).toBe('dir/big.bin');
    big.open?.(); // opened, never read
    await sleep(100);
    expect(pulled).toBeLessThan(1_000_000); // the body is 2 MB of noise, which no compressor shrinks
    await iterator.return?.(undefined);
  });

  it('stops with ERR_ABORTED when the signal fires', async () => {
    const bytes = wrap(await sampleTar());
    const controller = new AbortController();
    const seen: string[] = [];
    const failure = (async () => {
      for await (const entry of decode(bytes, { signal: controller.signal })) {
        seen.push(entry.path);
        if (entry.path === 'dir') controller.abort();
      }
    })().catch((error: unknown) => error);
    expect(await failure).toMatchObject({ code: 'ERR_ABORTED', message: `[format-test] read ${format}: aborted` });
    expect(seen).toEqual(['a.txt', 'dir']);
    expect(isBentoportError(await failureOf(decode(bytes, { signal: AbortSignal.abort() })), 'ERR_ABORTED')).toBe(true);
  });

  it('passes a coded source error through', async () => {
    const source = {
      stream: () =>
        new Readable({
          read() {
            this.destroy(Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }));
          },
        }),
    };
    const error = await failureOf(decodeTar(source, options));
    expect(error).toMatchObject({ code: 'ERR_IO', message: `[format-test] read ${format}: connection reset` });
  });
});

describe('decodeTar', () => {
  it('names itself tar when the caller does not say who reads', async () => {
    const error = await failureOf(decodeTar(sourceOf(Buffer.alloc(0))));
    expect(error).toMatchObject({ code: 'ERR_CORRUPT_ARCHIVE', message: '[tar] read tar: the archive is empty' });
  });

  it("keeps a decompressor's coded error as it is, and codes its other errors as corrupt", async () => {
    const refusing = (error: Error) => () =>
      new Transform({
        transform(_chunk, _encoding, callback) {
          callback(error);
        },
      });
    const coded = new BentoportError('ERR_UNSUPPORTED_FORMAT', '[format-test] a block uses filters this decoder does not know');
    expect(await failureOf(decodeTar(sourceOf(await sampleTar()), { decompress: refusing(coded) }))).toBe(coded);
    const plain = await failureOf(decodeTar(sourceOf(await sampleTar()), { component: 'format-test', format: 'xz', decompress: refusing(new Error('bad magic')) }));
    expect(plain).toMatchObject({ code: 'ERR_CORRUPT_ARCHIVE', message: '[format-test] read xz: bad magic' });
  });

  it('rejects a header with a wrong checksum', async () => {
    const bytes = await sampleTar();
    bytes[512 + 10] = 0x41; // a byte of the second member's name
    expect(isBentoportError(await failureOf(decodeTar(sourceOf(bytes))), 'ERR_CORRUPT_ARCHIVE')).toBe(true);
  });

  it('yields unsafe paths as found, for core to judge, and strips only ./ prefixes and trailing slashes', async () => {
    const bytes = await pythonTar(`
    add('.', tarfile.DIRTYPE)
    add('/etc/passwd', data=b'x')
    add('../escape', data=b'y')
    add('./././nested/', tarfile.DIRTYPE)
    add('./nested/link', tarfile.LNKTYPE, linkname='./../escape')
    add('a/../../b', tarfile.SYMTYPE, linkname='/abs/target')
    add('fifo', tarfile.FIFOTYPE)
    add('chr', tarfile.CHRTYPE)
    add('contig', tarfile.CONTTYPE, data=b'z')`);
    const decoded = await readEntries(decodeTar(sourceOf(bytes)));
    expect(decoded.map(({ path, type, linkTarget }) => ({ path, type, linkTarget }))).toEqual([
      { path: '/etc/passwd', type: 'file', linkTarget: undefined },
      { path: '../escape', type: 'file', linkTarget: undefined },
      { path: 'nested', type: 'directory', linkTarget: undefined },
      { path: 'nested/link', type: 'hardlink', linkTarget: '../escape' },
      { path: 'a/../../b', type: 'symlink', linkTarget: '/abs/target' },
      { path: 'fifo', type: 'other', linkTarget: undefined },
      { path: 'chr', type: 'other', linkTarget: undefined },
      { path: 'contig', type: 'file', linkTarget: undefined },
    ]);
  });

  it('reads v7 tar (no magic)', async () => {
    const bytes = await pythonTar("    add('old.txt', data=b'hello')", 'USTAR_FORMAT');
    const header = bytes.subarray(0, 512);
    header.fill(0, 257, 265); // strip the magic: a v7 header
    writeChecksum(header);
    const decoded = await readEntries(decodeTar(sourceOf(bytes)));
    expect(decoded).toEqual([{ path: 'old.txt', type: 'file', mode: 0o644, mtime: 1_700_000_000, size: 5, body: Buffer.from('hello') }]);
  });

  it('reads base-256 size fields (as GNU tar and tar-stream write for 8 GiB and more)', async () => {
    const bytes = await buffer(encodeTar(entriesOf([{ path: 'five', type: 'file', mode: 0o644, mtime: 0, body: Buffer.from('hello') }])));
    const header = bytes.subarray(512, 1024); // after the ./ root
    header.fill(0, 124, 136);
    header[124] = 0x80;
    header[135] = 5;
    writeChecksum(header);
    const sizes = await python('import sys, tarfile; print([m.size for m in tarfile.open(fileobj=sys.stdin.buffer, mode="r|")])', [], { input: bytes });
    expect(sizes.trim()).toBe('[0, 5]');
    const decoded = await readEntries(decodeTar(sourceOf(bytes)));
    expect(decoded).toMatchObject([{ path: 'five', size: 5, body: Buffer.from('hello') }]);
  });

  it('offers bodies up to 1 MiB whole, and never a body both whole and as a stream', async () => {
    const offered: Record<string, boolean> = {};
    for await (const entry of decodeTar(sourceOf(await sampleTar()))) {
      if (entry.type !== 'file') continue;
      offered[entry.path] = entry.readWhole !== undefined;
      if (entry.path !== 'a.txt') continue;
      expect(await entry.readWhole?.()).toEqual(Buffer.alloc(3000, 'the quick brown fox\n'));
      expect(() => entry.open?.()).toThrow(TypeError);
      expect(() => entry.readWhole?.()).toThrow(TypeError);
    }
    expect(offered).toEqual({ 'a.txt': true, 'dir/big.bin': false, 'dir/z.txt': true });
  });

  it('throws a TypeError when a body is opened twice', async () => {
    for await (const entry of decodeTar(sourceOf(await sampleTar()))) {
      if (entry.open === undefined) continue;
      const body = entry.open();
      expect(() => entry.open?.()).toThrow(TypeError);
      body.resume();
    }
  });
});

/** Recomputes a header's checksum after a test changed its bytes. */
function writeChecksum(header: Buffer): void {
  header.write('        ', 148, 'latin1');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
}

describe('normaliseMemberName', () => {
  it.each([
    ['./', ''],
    ['.', ''],
    ['', ''],
    ['././', ''],
    ['./a/b/', 'a/b'],
    ['a//', 'a'],
    ['/', '/'],
    ['/etc/x', '/etc/x'],
    ['../x', '../x'],
    ['.//a', '/a'],
  ])('%j → %j', (name, expected) => {
    expect(normaliseMemberName(name)).toBe(expected);
  });
});
