import { Readable } from 'node:stream';
import type { ArchiveEntry } from '@bentoport/spec';
import { describe, expect, it } from 'vitest';
import { encodeTar, tarByteLength } from './index.js';

function file(path: string, size: number, mtime = 1_700_000_000): ArchiveEntry {
  return { path, type: 'file', mode: 0o644, mtime, size, open: () => Readable.from([Buffer.alloc(size, 7)]) };
}

async function encodedLength(entries: ArchiveEntry[]): Promise<number> {
  let total = 0;
  for await (const chunk of encodeTar(entries)) total += chunk.length;
  return total;
}

describe('tarByteLength', () => {
  const cases: Record<string, () => ArchiveEntry[]> = {
    'no entries': () => [],
    'bodies of 0, 1, 511, 512 and 513 bytes': () => [file('a', 0), file('b', 1), file('c', 511), file('d', 512), file('e', 513)],
    'PAX headers: a long name, a non-ASCII name, a fractional and a negative mtime, a long link target': () => [
      { path: 'dir', type: 'directory', mode: 0o755, mtime: 1_700_000_000.25, size: 0 },
      file(`dir/${'x'.repeat(150)}`, 1000),
      file('dir/caf\u00e9.txt', 10, -5),
      { path: 'dir/link', type: 'symlink', mode: 0o777, mtime: 1, size: 0, linkTarget: 'y'.repeat(120) },
      { path: 'dir/hard', type: 'hardlink', mode: 0o644, mtime: 1, size: 0, linkTarget: 'dir/caf\u00e9.txt' },
    ],
    'an archive that ends exactly on a record boundary': () => [file('f', 10240 - 512 * 4)],
    'a first entry with a negative mtime (the root header needs PAX)': () => [file('old', 3, -1.5)],
  };
  for (const [name, entries] of Object.entries(cases)) {
    it(`equals the encoded length: ${name}`, async () => {
      expect(await tarByteLength(entries())).toBe(await encodedLength(entries()));
    });
  }

  it('never opens a body', async () => {
    let opened = 0;
    const entry: ArchiveEntry = { ...file('big', 5 * 1024 ** 3), open: () => { opened++; return Readable.from([]); } };
    expect(await tarByteLength([entry])).toBe(10240 * Math.ceil((512 + 512 + 5 * 1024 ** 3 + 1024) / 10240));
    expect(opened).toBe(0);
  });

  it('fails as encoding would, naming the caller', async () => {
    const fifo: ArchiveEntry = { path: 'fifo', type: 'other', mode: 0o644, mtime: 0, size: 0 };
    await expect(tarByteLength([fifo], { component: 'registry-test' })).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_FORMAT',
      message: '[registry-test] write tar: entry fifo is of type other, which a bento archive cannot hold',
    });
    const link: ArchiveEntry = { path: 'link', type: 'symlink', mode: 0o777, mtime: 0, size: 0 };
    await expect(tarByteLength([link])).rejects.toMatchObject({ code: 'ERR_IO', message: '[tar] write tar: symlink link has no link target' });
  });
});
