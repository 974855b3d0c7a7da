import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tarFormat } from './index.js';
import {
  LONG_NAME,
  VERY_LONG_NAME,
  bufferSource,
  collectEntries,
  entriesFromDirectory,
  entriesFromList,
  readAll,
  temporaryDirectory,
  writeSampleTree,
} from './test-tree.js';
import type { EntryRecord } from './test-tree.js';

const format = tarFormat();
let tree: { path: string; remove: () => Promise<void> };

beforeAll(async () => {
  tree = await temporaryDirectory();
  await writeSampleTree(tree.path);
});
afterAll(() => tree.remove());

async function expectedRecords(): Promise<EntryRecord[]> {
  const fromTree = await collectEntries(entriesFromDirectory(tree.path));
  return fromTree;
}

describe.each(['tar', 'gz'] as const)('round trip %s', (token) => {
  it('decodes exactly the entries it encoded: types, modes, mtimes, link targets, bodies', async () => {
    const bytes = await readAll(format.encode(entriesFromDirectory(tree.path), { format: token }));
    const decoded = await collectEntries(format.decode(bufferSource(bytes), { format: token }));
    const expected = await expectedRecords();
    expect(decoded).toEqual(expected);

    const byPath = new Map(decoded.map((record) => [record.path, record]));
    expect(byPath.get('src/run.sh')?.mode).toBe(0o755);
    expect(byPath.get('src/empty.txt')).toMatchObject({ type: 'file', size: 0 });
    expect(byPath.get('empty-dir')).toMatchObject({ type: 'directory' });
    expect(byPath.get('src/link-to-service')).toMatchObject({ type: 'symlink', linkTarget: 'service.py' });
    expect(byPath.get('src/dangling')).toMatchObject({ type: 'symlink', linkTarget: '../does/not/exist' });
    expect(byPath.get('models/iris/v1/saved_model.bin')).toMatchObject({ type: 'hardlink', linkTarget: 'models/iris/v1/hardlinked.bin' });
    expect(byPath.get(`src/${LONG_NAME}`)?.type).toBe('file');
    expect(byPath.get(`src/${VERY_LONG_NAME}`)?.type).toBe('file');
    expect(byPath.get('src/pkg/ünïcødé-名前.py')?.type).toBe('file');
    expect(byPath.get('README.md')?.mtime).toBe(1_700_000_000.25);
    expect(byPath.get('src/service.py')?.mtime).toBe(-86_400 * 365);
    expect(byPath.get('bento.yaml')?.mtime).toBe(9_000_000_000);
  });

  it('writes the same bytes for the same entries, whatever the time zone', async () => {
    const first = await readAll(format.encode(entriesFromDirectory(tree.path), { format: token }));
    const previous = process.env.TZ;
    process.env.TZ = 'Pacific/Kiritimati';
    try {
      const second = await readAll(format.encode(entriesFromDirectory(tree.path), { format: token }));
      expect(second.equals(first)).toBe(true);
    } finally {
      if (previous === undefined) delete process.env.TZ;
      else process.env.TZ = previous;
    }
  });

  it('round-trips fractional and extreme mtimes exactly', async () => {
    const mtimes = [0, 1, 1795576405.1866612, -1.5, -2_000_000_000, 8 ** 11 - 1, 8 ** 11, 32_503_680_000.000_004, 1e-9];
    const list = mtimes.map((mtime, index) => ({ path: `f${index}`, type: 'file' as const, mode: 0o644, mtime, body: Buffer.from(`${index}`) }));
    const bytes = await readAll(format.encode(entriesFromList(list), { format: token }));
    const decoded = await collectEntries(format.decode(bufferSource(bytes), { format: token }));
    expect(decoded.map((record) => record.mtime)).toEqual(mtimes);
  });
});

describe('tar layout', () => {
  it('is what shutil.make_archive writes: ./ root first, ./ prefixes, dirs with /, ustar + PAX, 10240-byte records', async () => {
    const bytes = await readAll(format.encode(entriesFromDirectory(tree.path), { format: 'tar' }));
    expect(bytes.length % 10240).toBe(0);
    expect(bytes.subarray(257, 265).toString('latin1')).toBe('ustar\u000000');
    const listing = spawnSync('tar', ['-tvf', '-', '--numeric-owner'], { input: bytes, encoding: 'utf8' });
    expect(listing.status).toBe(0);
    const names = spawnSync('tar', ['-tf', '-'], { input: bytes, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    expect(names[0]).toBe('./');
    expect(names).toContain('./src/');
    expect(names).toContain('./empty-dir/');
    expect(names).toContain(`./src/${VERY_LONG_NAME}`);
    expect(names.every((name) => name.startsWith('./'))).toBe(true);
    // Owner fields are fixed: uid/gid 0 and no user names, so nothing depends on who exported.
    for (const line of listing.stdout.split('\n').filter(Boolean)) expect(line).toMatch(/^\S+ 0\/0 /);
  });

  it('writes PAX headers only where ustar cannot hold the value', async () => {
    const list = [
      { path: 'plain.txt', type: 'file' as const, mode: 0o644, mtime: 1_700_000_000, body: Buffer.from('x') },
      { path: 'fraction.txt', type: 'file' as const, mode: 0o644, mtime: 1_700_000_000.5, body: Buffer.from('x') },
      { path: 'n'.repeat(120), type: 'file' as const, mode: 0o644, mtime: 1_700_000_000, body: Buffer.from('x') },
      { path: 'link', type: 'symlink' as const, mode: 0o777, mtime: 1_700_000_000, linkTarget: 't'.repeat(150) },
    ];
    const bytes = await readAll(format.encode(entriesFromList(list), { format: 'tar' }));
    const script = `
import sys, tarfile
with tarfile.open(sys.argv[1], 'r:') as tar:
    for m in tar.getmembers():
        print(m.name, sorted(m.pax_headers), m.linkname)
`;
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const file = join(await mkdtemp(join(tmpdir(), 'pax-')), 'a.tar');
    await writeFile(file, bytes);
    const output = spawnSync('python3', ['-c', script, file], { encoding: 'utf8' });
    expect(output.stderr).toBe('');
    expect(output.stdout.split('\n').filter(Boolean)).toEqual([
      '. [] ', // Python drops the trailing slash of the `./` root when reading
      './plain.txt [] ',
      "./fraction.txt ['mtime'] ",
      `./${'n'.repeat(120)} ['path'] `,
      `./link ['linkpath'] ${'t'.repeat(150)}`,
    ]);
  });

  it('writes a root entry even for no entries, and decodes that to nothing', async () => {
    const bytes = await readAll(format.encode(entriesFromList([]), { format: 'tar' }));
    expect(bytes.length).toBe(10240);
    expect(await collectEntries(format.decode(bufferSource(bytes), { format: 'tar' }))).toEqual([]);
  });
});
