/**
 * Our archives against the real tools (Python tarfile and shutil, GNU tar, gzip), and theirs
 * against our decoder. Trees are compared by content hash, mode and link target.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tarFormat } from './index.js';
import {
  bufferSource,
  collectEntries,
  entriesFromDirectory,
  python,
  readAll,
  run,
  snapshotTree,
  temporaryDirectory,
  writeSampleTree,
} from './test-tree.js';
import type { EntryRecord } from './test-tree.js';

const format = tarFormat();
let work: { path: string; remove: () => Promise<void> };
let tree: string;

beforeAll(async () => {
  work = await temporaryDirectory();
  tree = join(work.path, 'tree');
  await mkdir(tree);
  await writeSampleTree(tree);
});
afterAll(() => work.remove());

let counter = 0;
async function scratch(): Promise<string> {
  const path = join(work.path, `scratch-${counter++}`);
  await mkdir(path);
  return path;
}

/** Records sorted by path, mtimes rounded as the writer under test stores them. */
function normalise(records: EntryRecord[], mtime: (value: number) => number): EntryRecord[] {
  return records.map((record) => ({ ...record, mtime: mtime(record.mtime) })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
const microseconds = (value: number): number => Math.round(value * 1e6) / 1e6;

describe('Python reads what we write', () => {
  it.each([
    ['tar', 'r|'],
    ['gz', 'r|gz'],
  ] as const)('%s: tarfile in stream mode %s extracts an identical tree', async (token, mode) => {
    const bytes = await readAll(format.encode(entriesFromDirectory(tree), { format: token }));
    const target = await scratch();
    python(`import sys, tarfile\nwith tarfile.open(fileobj=sys.stdin.buffer, mode='${mode}') as tar: tar.extractall(sys.argv[1])`, [target], bytes);
    expect(await snapshotTree(target)).toEqual(await snapshotTree(tree));
  });

  it.each([
    ['tar', 'tar'],
    ['gz', 'tar.gz'],
  ] as const)('%s: shutil.unpack_archive extracts an identical tree', async (token, extension) => {
    const bytes = await readAll(format.encode(entriesFromDirectory(tree), { format: token }));
    const directory = await scratch();
    const archive = join(directory, `svc-v1.${extension}`);
    await writeFile(archive, bytes);
    const target = join(directory, 'out');
    python('import shutil, sys\nshutil.unpack_archive(sys.argv[1], sys.argv[2])', [archive, target]);
    expect(await snapshotTree(target)).toEqual(await snapshotTree(tree));
  });

  it('gz: gzip -t passes and gzip -dc gives exactly our tar', async () => {
    const gz = await readAll(format.encode(entriesFromDirectory(tree), { format: 'gz' }));
    const tar = await readAll(format.encode(entriesFromDirectory(tree), { format: 'tar' }));
    expect(run('gzip', ['-t'], gz).status).toBe(0);
    const gunzipped = run('gzip', ['-dc'], gz);
    expect(gunzipped.status).toBe(0);
    expect(gunzipped.stdout.equals(tar)).toBe(true);
    // One member, mtime 0, no file name, fixed OS byte.
    expect([...gz.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
  });

  it('GNU tar lists and extracts our gz into an identical tree', async () => {
    const directory = await scratch();
    const archive = join(directory, 'a.tar.gz');
    await writeFile(archive, await readAll(format.encode(entriesFromDirectory(tree), { format: 'gz' })));
    const target = join(directory, 'out');
    await mkdir(target);
    const result = run('tar', ['-xzf', archive, '-C', target]);
    expect(result.status).toBe(0);
    // GNU tar warns about the sample's 1969 and 2255 mtimes, and about nothing else.
    const complaints = result.stderr.split('\n').filter((line) => line !== '' && !/time stamp/.test(line));
    expect(complaints).toEqual([]);
    expect(await snapshotTree(target)).toEqual(await snapshotTree(tree));
  });
});

describe('we read what others write', () => {
  it('shutil.make_archive gztar (current BentoML layout, ./ root and PAX mtimes)', async () => {
    const base = join(await scratch(), 'export');
    python('import shutil, sys\nshutil.make_archive(sys.argv[1], "gztar", root_dir=sys.argv[2])', [base, tree]);
    const bytes = await readFile(`${base}.tar.gz`);
    const decoded = await collectEntries(format.decode(bufferSource(bytes), { format: 'gz' }));
    const expected = await collectEntries(entriesFromDirectory(tree));
    // Same order too: make_archive walks depth-first with sorted children, as core does.
    expect(decoded.map((record) => ({ ...record, mtime: microseconds(record.mtime) }))).toEqual(
      expected.map((record) => ({ ...record, mtime: microseconds(record.mtime) })),
    );
  });

  it('a legacy writer: plain relative names, no root entry, arbitrary order', async () => {
    const archive = join(await scratch(), 'legacy.tar');
    python(
      `import os, sys, tarfile
root = sys.argv[2]
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as tar:
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(directory, name)
            tar.add(path, arcname=os.path.relpath(path, root), recursive=False)`,
      [archive, tree],
    );
    const listing = run('tar', ['-tf', archive]).stdout.toString();
    expect(listing).not.toMatch(/^\.\//m);
    const decoded = await collectEntries(format.decode(bufferSource(await readFile(archive)), { format: 'tar' }));
    const expected = await collectEntries(entriesFromDirectory(tree));
    // The walk order decides which path of the hard link is the file; compare the rest.
    const withoutHardLinks = (records: EntryRecord[]): EntryRecord[] => records.filter((record) => !record.path.startsWith('models/iris/v1/'));
    expect(normalise(withoutHardLinks(decoded), microseconds)).toEqual(normalise(withoutHardLinks(expected), microseconds));
    const pair = decoded.filter((record) => record.path.startsWith('models/iris/v1/')).map((record) => record.type).sort();
    expect(pair).toEqual(['file', 'hardlink']);
  });

  it.each(['gnu', 'posix'])('GNU tar czf --format=%s (long names, base-256 mtimes, hard links)', async (tarFormatName) => {
    const archive = join(await scratch(), 'gnu.tar.gz');
    const result = run('tar', ['--format', tarFormatName, '--sort=name', '-czf', archive, '-C', tree, '.']);
    expect(result.status).toBe(0);
    const decoded = await collectEntries(format.decode(bufferSource(await readFile(archive)), { format: 'gz' }));
    const expected = await collectEntries(entriesFromDirectory(tree));
    // GNU format keeps whole seconds; POSIX format keeps the fraction.
    const mtime = tarFormatName === 'gnu' ? Math.floor : microseconds;
    expect(normalise(decoded, mtime)).toEqual(normalise(expected, mtime));
  });

  it('several concatenated gzip members (cat a.gz b.gz), split mid-block', async () => {
    const tar = await readAll(format.encode(entriesFromDirectory(tree), { format: 'tar' }));
    const cut = 12_345; // not on a 512-byte boundary
    const first = run('gzip', ['-c'], tar.subarray(0, cut)).stdout;
    const second = run('gzip', ['-c'], tar.subarray(cut)).stdout;
    const multiMember = Buffer.concat([first, second]);
    const decoded = await collectEntries(format.decode(bufferSource(multiMember), { format: 'gz' }));
    expect(decoded).toEqual(await collectEntries(entriesFromDirectory(tree)));
  });
});
