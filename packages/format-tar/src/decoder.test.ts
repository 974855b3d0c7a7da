import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { isBentoportError } from '@bentoport/core';
import type { ArchiveEntry } from '@bentoport/core';
import { describe, expect, it } from 'vitest';
import { tarFormat } from './index.js';
import { normaliseMemberName } from './tar-decoder.js';
import { bufferSource, collectEntries, entriesFromList, pythonBytes, readAll, run, seededRandom, sha256, textBytes } from './test-tree.js';

const format = tarFormat();

const sample = [
  { path: 'a.txt', type: 'file' as const, mode: 0o644, mtime: 1_700_000_000, body: textBytes(3000, 1) },
  { path: 'dir', type: 'directory' as const, mode: 0o755, mtime: 1_700_000_000 },
  { path: 'dir/big.bin', type: 'file' as const, mode: 0o644, mtime: 1_700_000_000, body: textBytes(2_000_000, 2) },
  { path: 'dir/z.txt', type: 'file' as const, mode: 0o600, mtime: 1_700_000_000, body: Buffer.from('last') },
];

async function encoded(token: 'tar' | 'gz'): Promise<Buffer> {
  return readAll(format.encode(entriesFromList(sample), { format: token }));
}

async function decodeFailure(bytes: Uint8Array, token: string): Promise<unknown> {
  try {
    await collectEntries(format.decode(bufferSource(bytes), { format: token }));
  } catch (error) {
    return error;
  }
  throw new Error('expected decoding to fail');
}

/** A Python-written tar with the given members, for layouts our encoder would never produce. */
function pythonTar(membersScript: string): Buffer {
  const script = `import io, sys, tarfile
buffer = io.BytesIO()
with tarfile.open(fileobj=buffer, mode='w', format=tarfile.PAX_FORMAT) as tar:
    def add(name, type=tarfile.REGTYPE, data=b'', linkname=''):
        info = tarfile.TarInfo(name)
        info.type = type
        info.size = len(data)
        info.linkname = linkname
        info.mtime = 1700000000
        tar.addfile(info, io.BytesIO(data) if data else None)
${membersScript}
sys.stdout.buffer.write(buffer.getvalue())`;
  return pythonBytes(script);
}

describe.each(['tar', 'gz'] as const)('decode %s', (token) => {
  it('rejects a truncated archive with ERR_CORRUPT_ARCHIVE naming the format', async () => {
    const bytes = await encoded(token);
    for (const length of [100, 1500, Math.floor(bytes.length / 2)]) {
      const error = await decodeFailure(bytes.subarray(0, length), token);
      expect(isBentoportError(error, 'ERR_CORRUPT_ARCHIVE')).toBe(true);
      expect((error as Error).message).toMatch(new RegExp(`^\\[format-tar\\] read ${token}: `));
    }
  });

  it('rejects garbage and empty input with ERR_CORRUPT_ARCHIVE', async () => {
    const random = seededRandom(5);
    const garbage = Buffer.from(Array.from({ length: 8192 }, () => Math.floor(random() * 256)));
    for (const bytes of [garbage, Buffer.alloc(0), Buffer.from('hello, this is not an archive')]) {
      expect(isBentoportError(await decodeFailure(bytes, token), 'ERR_CORRUPT_ARCHIVE')).toBe(true);
    }
  });

  it('skips bodies nobody opened, and bodies destroyed half-read', async () => {
    const paths: string[] = [];
    let lastBody = '';
    for await (const entry of format.decode(bufferSource(await encoded(token)), { format: token })) {
      paths.push(entry.path);
      if (entry.path === 'dir/big.bin') {
        const body = entry.open?.();
        await new Promise((resolve) => body?.once('readable', resolve));
        body?.read(1000);
        body?.destroy();
      }
      if (entry.path === 'dir/z.txt') lastBody = (await readAll(entry.open?.() as Readable)).toString();
    }
    expect(paths).toEqual(['a.txt', 'dir', 'dir/big.bin', 'dir/z.txt']);
    expect(lastBody).toBe('last');
  });

  it('does not read ahead of the body being consumed', async () => {
    const bytes = await encoded(token);
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
    const iterator = format.decode(source, { format: token })[Symbol.asyncIterator]();
    await iterator.next(); // a.txt
    await iterator.next(); // dir
    const big = (await iterator.next()).value as ArchiveEntry;
    expect(big.path).toBe('dir/big.bin');
    big.open?.(); // opened, never read
    await sleep(100);
    expect(pulled).toBeLessThan(1_000_000); // the body is 2 MB (raw)
    await iterator.return?.();
  });

  it('stops with ERR_ABORTED when the signal fires', async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const failure = (async () => {
      for await (const entry of format.decode(bufferSource(await encoded(token)), { format: token, signal: controller.signal })) {
        seen.push(entry.path);
        if (entry.path === 'dir') controller.abort();
      }
    })().catch((error: unknown) => error);
    expect(isBentoportError(await failure, 'ERR_ABORTED')).toBe(true);
    expect(seen).toEqual(['a.txt', 'dir']);
    const already = (async () => {
      for await (const _entry of format.decode(bufferSource(await encoded(token)), { format: token, signal: AbortSignal.abort() }));
    })().catch((error: unknown) => error);
    expect(isBentoportError(await already, 'ERR_ABORTED')).toBe(true);
  });
});

describe('decode', () => {
  it('rejects a header with a wrong checksum', async () => {
    const bytes = Buffer.from(await encoded('tar'));
    bytes[512 + 10] = 0x41; // a byte of the second member's name
    expect(isBentoportError(await decodeFailure(bytes, 'tar'), 'ERR_CORRUPT_ARCHIVE')).toBe(true);
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
    const error = await (async () => {
      for await (const _entry of format.decode(source, { format: 'gz' }));
    })().catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_IO')).toBe(true);
    expect((error as Error).message).toBe('[format-tar] read gz: connection reset');
  });

  it('throws ERR_UNSUPPORTED_FORMAT synchronously for a token it does not read', () => {
    expect(() => format.decode(bufferSource(Buffer.alloc(0)), { format: 'zip' })).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_FORMAT' }));
  });

  it('yields unsafe paths as found, for core to judge, and strips only ./ prefixes and trailing slashes', async () => {
    const bytes = pythonTar(`
    add('.', tarfile.DIRTYPE)
    add('/etc/passwd', data=b'x')
    add('../escape', data=b'y')
    add('./././nested/', tarfile.DIRTYPE)
    add('./nested/link', tarfile.LNKTYPE, linkname='./../escape')
    add('a/../../b', tarfile.SYMTYPE, linkname='/abs/target')
    add('fifo', tarfile.FIFOTYPE)
    add('chr', tarfile.CHRTYPE)
    add('contig', tarfile.CONTTYPE, data=b'z')`);
    const decoded = await collectEntries(format.decode(bufferSource(bytes), { format: 'tar' }));
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
    const script = `import io, sys, tarfile
buffer = io.BytesIO()
with tarfile.open(fileobj=buffer, mode='w', format=tarfile.USTAR_FORMAT) as tar:
    info = tarfile.TarInfo('old.txt'); info.size = 5; info.mtime = 1700000000
    tar.addfile(info, io.BytesIO(b'hello'))
data = bytearray(buffer.getvalue())
data[257:265] = bytes(8)  # strip the magic: a v7 header
chk = 256 + sum(data[:148]) + sum(data[156:512])
data[148:156] = b'%06o\\0 ' % chk
sys.stdout.buffer.write(bytes(data))`;
    const decoded = await collectEntries(format.decode(bufferSource(pythonBytes(script)), { format: 'tar' }));
    expect(decoded).toEqual([{ path: 'old.txt', type: 'file', mode: 0o644, mtime: 1_700_000_000, size: 5, sha256: sha256(Buffer.from('hello')) }]);
  });

  it('reads base-256 size fields (as GNU tar and tar-stream write for 8 GiB and more)', async () => {
    const bytes = Buffer.from(await readAll(format.encode(entriesFromList([{ path: 'five', type: 'file', mode: 0o644, mtime: 0, body: Buffer.from('hello') }]), { format: 'tar' })));
    const header = bytes.subarray(512, 1024); // after the ./ root
    header.fill(0, 124, 136);
    header[124] = 0x80;
    header[135] = 5;
    header.write('        ', 148, 'latin1');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const listing = run('python3', ['-c', 'import sys, tarfile; print([m.size for m in tarfile.open(fileobj=sys.stdin.buffer, mode="r|")])'], bytes);
    expect(listing.stdout.toString().trim()).toBe('[0, 5]');
    const decoded = await collectEntries(format.decode(bufferSource(bytes), { format: 'tar' }));
    expect(decoded).toMatchObject([{ path: 'five', size: 5, sha256: sha256(Buffer.from('hello')) }]);
  });

  it('throws a TypeError when a body is opened twice', async () => {
    for await (const entry of format.decode(bufferSource(await encoded('tar')), { format: 'tar' })) {
      if (entry.open === undefined) continue;
      const body = entry.open();
      expect(() => entry.open?.()).toThrow(TypeError);
      body.resume();
    }
  });
});

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
