import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArchiveEntry } from '@bentoport/spec';
import { directorySize, type StatsTaken } from './directory-size.js';
import { FileDigests } from './file-digests.js';
import { itemEntries } from './item-entries.js';

let tree: string;
beforeEach(async () => {
  tree = await mkdtemp(path.join(tmpdir(), 'bentoport-entries-'));
  await mkdir(path.join(tree, 'src', 'b'), { recursive: true });
  await writeFile(path.join(tree, 'bento.yaml'), 'service: svc\n');
  await writeFile(path.join(tree, 'src', 'b', 'z.py'), 'print(1)\n');
  await writeFile(path.join(tree, 'src', 'a.py'), 'x = 1\n');
  await writeFile(path.join(tree, 'src', 'big.bin'), Buffer.alloc(300 * 1024, 7));
  await symlink('a.py', path.join(tree, 'src', 'link.py'));
});
afterEach(() => rm(tree, { recursive: true, force: true }));

async function collect(keepSymlinks = true): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = [];
  for await (const entry of itemEntries({ trees: [{ directory: tree, prefix: '' }], mtime: 1_700_000_000, keepSymlinks })) entries.push(entry);
  return entries;
}

describe('itemEntries', () => {
  it('walks depth first in byte order, parents first, with small and large bodies that read back whole', async () => {
    const entries = await collect();
    expect(entries.map((entry) => `${entry.type}:${entry.path}`)).toEqual([
      'file:bento.yaml',
      'directory:src',
      'file:src/a.py',
      'directory:src/b',
      'file:src/b/z.py',
      'file:src/big.bin',
      'symlink:src/link.py',
    ]);
    const bytes = async (entryPath: string) => buffer(entries.find((entry) => entry.path === entryPath)?.open?.() as NodeJS.ReadableStream);
    expect((await bytes('src/a.py')).toString()).toBe('x = 1\n');
    expect((await bytes('src/big.bin')).equals(Buffer.alloc(300 * 1024, 7))).toBe(true);
  });

  it('streams a large file in reads of 256 KiB (FILE_READ_BYTES), not 1 MiB', async () => {
    await writeFile(path.join(tree, 'src', 'big.bin'), Buffer.alloc(1024 * 1024 + 10, 7));
    const entries = await collect();
    const sizes: number[] = [];
    for await (const chunk of entries.find((entry) => entry.path === 'src/big.bin')?.open?.() as AsyncIterable<Buffer>) sizes.push(chunk.length);
    expect(sizes).toEqual([262144, 262144, 262144, 262144, 10]);
  });

  it('fails the body of a small file that vanished after the walk with the file-system error', async () => {
    const entries = await collect();
    await rm(path.join(tree, 'src', 'a.py'));
    const body = entries.find((entry) => entry.path === 'src/a.py')?.open?.() as NodeJS.ReadableStream;
    await expect(buffer(body)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('offers small bodies whole, hashed and counted from the one read, and gives a file that grew as more bytes than its size', async () => {
    const fileDigests = new FileDigests();
    let counted = 0;
    const entries: ArchiveEntry[] = [];
    const options = { trees: [{ directory: tree, prefix: '' }], mtime: 0, keepSymlinks: true, fileDigests, onFileBytes: (bytes: number) => (counted += bytes) };
    for await (const entry of itemEntries(options)) entries.push(entry);
    const find = (entryPath: string) => entries.find((entry) => entry.path === entryPath);
    expect(find('src/big.bin')?.readWhole).toBeUndefined();
    expect((await find('src/a.py')?.readWhole?.())?.toString()).toBe('x = 1\n');
    expect(counted).toBe(6);
    // With the mode the walk found, so that the content manifest needs no stat of its own.
    const mode = (await stat(path.join(tree, 'src', 'a.py'))).mode & 0o777;
    expect((await fileDigests.known()).get(path.join(tree, 'src', 'a.py'))).toEqual({ size: 6, sha256: createHash('sha256').update('x = 1\n').digest('hex'), mode });
    await writeFile(path.join(tree, 'src', 'b', 'z.py'), 'print(1)\nprint(2)\n');
    expect((await find('src/b/z.py')?.readWhole?.())?.length).toBe(find('src/b/z.py')?.size as number + 1);
  });

  it('uses the mode and size directorySize found of each file instead of an lstat, once', async () => {
    const statsTaken: StatsTaken = new Map();
    expect(await directorySize(tree, [], statsTaken)).toBe(13 + 9 + 6 + 300 * 1024);
    expect([...statsTaken.keys()].sort()).toEqual(['bento.yaml', 'src/a.py', 'src/b/z.py', 'src/big.bin'].map((name) => path.join(tree, name)));
    // A file grown since the count keeps the size counted: the encoder then reports the change.
    await writeFile(path.join(tree, 'src', 'a.py'), 'x = 1\ny = 2\n');
    const entries: ArchiveEntry[] = [];
    for await (const entry of itemEntries({ trees: [{ directory: tree, prefix: '' }], mtime: 0, keepSymlinks: true, statsTaken })) entries.push(entry);
    expect(entries.find((entry) => entry.path === 'src/a.py')?.size).toBe(6);
    expect(statsTaken.size).toBe(0);
  });

  it('follows links where the format stores none', async () => {
    const link = (await collect(false)).find((entry) => entry.path === 'src/link.py');
    expect(link?.type).toBe('file');
    expect((await buffer(link?.open?.() as NodeJS.ReadableStream)).toString()).toBe('x = 1\n');
  });
});
