import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CompressionPolicy } from '@bentoport/spec';
import { zipFormat } from './index.js';
import type { EntrySpec } from './test-helpers.js';
import { bufferSource, collect, decodeAll, entriesFrom, fileSource, hasPython, runPython } from './test-helpers.js';

const hasUnzip = spawnSync('unzip', ['-v'], { stdio: 'ignore' }).status === 0;
const workDirectory = mkdtempSync(join(tmpdir(), 'format-zip-interop-'));
afterAll(() => rmSync(workDirectory, { recursive: true, force: true }));

const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

const tree: EntrySpec[] = [
  { path: 'README.md', content: '# bento\n' },
  { path: 'apis', mode: 0o755 },
  { path: 'apis/openapi.yaml', content: 'openapi: 3.0.2\n'.repeat(2000), mode: 0o600 },
  { path: 'bento.yaml', content: 'service: svc:Service\n' },
  { path: 'empty', mode: 0o700 },
  { path: 'models', mode: 0o755 },
  { path: 'models/empty.bin', content: '' },
  { path: 'models/random.bin', content: randomBytes(2_500_000), mode: 0o640 },
  { path: 'models/zeros.bin', content: Buffer.alloc(3_000_000) },
  { path: 'src', mode: 0o755 },
  { path: 'src/café ☕.py', content: 'print("ok")\n', mode: 0o755 },
];

/**
 * Python prints, for every member: name, mode from the external attributes, the DOS date_time and
 * a SHA-256 of the data; then testzip()'s verdict; then the tree that shutil.unpack_archive wrote.
 */
const INSPECT_WITH_PYTHON = String.raw`
import hashlib, json, os, shutil, sys, zipfile
archive, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(archive) as zf:
    members = [{'name': i.filename, 'mode': i.external_attr >> 16, 'date_time': list(i.date_time),
                'sha256': hashlib.sha256(zf.read(i)).hexdigest(), 'flag_bits': i.flag_bits} for i in zf.infolist()]
    bad = zf.testzip()
shutil.unpack_archive(archive, target, 'zip')
tree = {}
for root, dirs, files in os.walk(target):
    for d in dirs:
        tree[os.path.relpath(os.path.join(root, d), target)] = 'dir'
    for f in files:
        with open(os.path.join(root, f), 'rb') as fh:
            tree[os.path.relpath(os.path.join(root, f), target)] = hashlib.sha256(fh.read()).hexdigest()
print(json.dumps({'members': members, 'testzip': bad, 'tree': tree}))
`;

describe.skipIf(!hasPython)('interoperability with Python zipfile', () => {
  for (const compression of ['auto', 'store', 'max'] as CompressionPolicy[]) {
    it(`our zip (${compression}) passes testzip() and unpacks into an identical tree`, async () => {
      const archivePath = join(workDirectory, `ours-${compression}.zip`);
      writeFileSync(archivePath, await collect(zipFormat({ deflatePieceSize: 256 * 1024 }).encode(entriesFrom(tree), { format: 'zip', compression })));
      const target = join(workDirectory, `unpacked-${compression}`);
      const report = JSON.parse(runPython(INSPECT_WITH_PYTHON, [archivePath, target])) as {
        members: Array<{ name: string; mode: number; date_time: number[]; sha256: string }>;
        testzip: string | null;
        tree: Record<string, string>;
      };
      expect(report.testzip).toBeNull();
      const expectedTree: Record<string, string> = {};
      for (const spec of tree) expectedTree[spec.path] = spec.content === undefined ? 'dir' : sha256(Buffer.from(spec.content));
      expect(report.tree).toEqual(expectedTree);
      expect(report.members.map((member) => member.name)).toEqual(tree.map((spec) => (spec.content === undefined ? `${spec.path}/` : spec.path)));
      for (const [index, spec] of tree.entries()) {
        const isDirectory = spec.content === undefined;
        const mode = spec.mode ?? (isDirectory ? 0o755 : 0o644);
        expect(report.members[index]?.mode).toBe((isDirectory ? 0o040000 : 0o100000) | mode);
        // DOS time written in UTC: 1_700_000_000 is 2023-11-14 22:13:20 UTC.
        expect(report.members[index]?.date_time).toEqual([2023, 11, 14, 22, 13, 20]);
      }
    });
  }

  it.skipIf(!hasUnzip)('our zip passes Info-ZIP unzip -t', async () => {
    const archivePath = join(workDirectory, 'ours-unzip.zip');
    writeFileSync(archivePath, await collect(zipFormat({ deflatePieceSize: 64 * 1024 }).encode(entriesFrom(tree), { format: 'zip' })));
    const result = spawnSync('unzip', ['-t', archivePath], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('No errors detected');
    expect(result.status).toBe(0);
  });

  it('decodes an archive written by shutil.make_archive into the expected entries', async () => {
    const root = join(workDirectory, 'python-tree');
    const files: Record<string, Buffer> = {
      'bento.yaml': Buffer.from('service: svc:Service\n'),
      'models/weights.bin': randomBytes(1_200_000),
      'models/empty.bin': Buffer.alloc(0),
      'src/naïve ☃.py': Buffer.from('x = 1\n'.repeat(10000)),
      'env/docker/entrypoint.sh': Buffer.from('#!/bin/sh\n'),
    };
    const directories = ['models', 'src', 'env', 'env/docker', 'empty-dir'];
    for (const directory of directories) mkdirSync(join(root, directory), { recursive: true });
    for (const [path, content] of Object.entries(files)) writeFileSync(join(root, path), content);
    chmodSync(join(root, 'env/docker/entrypoint.sh'), 0o755);
    chmodSync(join(root, 'models/weights.bin'), 0o600);
    for (const path of [...Object.keys(files), ...directories]) utimesSync(join(root, path), 1_650_000_000, 1_650_000_001);
    const base = join(workDirectory, 'python-made');
    runPython("import shutil, sys; shutil.make_archive(sys.argv[1], 'zip', root_dir=sys.argv[2])", [base, root], {
      env: { ...process.env, TZ: 'UTC' },
    });

    const decoded = await decodeAll(zipFormat(), fileSource(`${base}.zip`));
    const byPath = new Map(decoded.map((entry) => [entry.path, entry]));
    expect([...byPath.keys()].sort()).toEqual([...Object.keys(files), ...directories].sort());
    for (const [path, content] of Object.entries(files)) {
      const entry = byPath.get(path);
      expect(entry?.type).toBe('file');
      expect(entry?.size).toBe(content.length);
      expect(sha256(entry?.content ?? Buffer.alloc(0))).toBe(sha256(content));
      expect(entry?.mode).toBe(statSync(join(root, path)).mode & 0o7777);
      // Python writes DOS local time (UTC here), 2-second resolution; we read DOS time as UTC.
      expect(entry?.mtime).toBe(1_650_000_000);
    }
    for (const directory of directories) {
      expect(byPath.get(directory)?.type).toBe('directory');
      expect(byPath.get(directory)?.mode).toBe(statSync(join(root, directory)).mode & 0o7777);
    }
  });

  it('reads symlinks, comments, prepended bytes, CP437 and non-Unix attributes written by Python', async () => {
    const archivePath = join(workDirectory, 'python-special.zip');
    runPython(
      String.raw`
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as zf:
    link = zipfile.ZipInfo('bin/python', date_time=(2020, 1, 2, 3, 4, 6))
    link.create_system = 3
    link.external_attr = (0o120777 << 16)
    zf.writestr(link, '../lib/python3.11')
    dos = zipfile.ZipInfo('DOS.TXT', date_time=(2021, 5, 6, 7, 8, 10))
    dos.create_system = 0
    dos.external_attr = 0x20
    zf.writestr(dos, 'from dos')
    dos_dir = zipfile.ZipInfo('DOSDIR/', date_time=(2021, 5, 6, 7, 8, 10))
    dos_dir.create_system = 0
    dos_dir.external_attr = 0x10
    zf.writestr(dos_dir, '')
    cp = zipfile.ZipInfo('caf\u00e9.txt')
    cp.create_system = 3
    cp.external_attr = (0o100600 << 16)
    zf.writestr(cp, 'cp437 name')
    zf.comment = b'a comment that contains PK\x05\x06 to confuse naive scanners'
data = open(sys.argv[1], 'rb').read()
open(sys.argv[1], 'wb').write(b'#!/bin/sh\necho self-extracting stub\n' + data)
`,
      [archivePath],
    );
    // A name without the UTF-8 flag that is not valid UTF-8 is CP437 (APPNOTE appendix D).
    const rebuilt = join(workDirectory, 'python-cp437.zip');
    runPython(
      String.raw`
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as zf:
    info = zipfile.ZipInfo('caf\u00e9.txt')
    info.create_system = 3
    info.external_attr = (0o100600 << 16)
    zf.writestr(info, 'cp437 name')
data = bytearray(open(sys.argv[1], 'rb').read())
# Same length: the UTF-8 'é' (2 bytes) becomes CP437 'é' (0x82) and 'ü' (0x81), which is not valid UTF-8.
old = 'caf\u00e9.txt'.encode('utf-8')
new = b'caf\x82\x81.txt'
assert len(old) == len(new)
data = data.replace(old, new)
# Clear the UTF-8 flag in the local and central headers.
for sig, flag_at in ((b'PK\x03\x04', 6), (b'PK\x01\x02', 8)):
    at = data.find(sig)
    flags = int.from_bytes(data[at + flag_at:at + flag_at + 2], 'little') & ~0x800
    data[at + flag_at:at + flag_at + 2] = flags.to_bytes(2, 'little')
open(sys.argv[1], 'wb').write(bytes(data))
print(zipfile.ZipFile(sys.argv[1]).namelist()[0])
`,
      [rebuilt],
    );
    const decoded = await decodeAll(zipFormat(), fileSource(archivePath));
    expect(decoded.map((entry) => [entry.path, entry.type, entry.mode])).toEqual([
      ['bin/python', 'symlink', 0o777],
      ['DOS.TXT', 'file', 0o644],
      ['DOSDIR', 'directory', 0o755],
      ['café.txt', 'file', 0o600],
    ]);
    expect(decoded[0]?.linkTarget).toBe('../lib/python3.11');
    expect(decoded[0]?.mtime).toBe(Date.UTC(2020, 0, 2, 3, 4, 6) / 1000);
    expect(decoded[1]?.content?.toString()).toBe('from dos');

    const cp437 = await decodeAll(zipFormat(), fileSource(rebuilt));
    expect(cp437.map((entry) => entry.path)).toEqual(['caféü.txt']);
    expect(cp437[0]?.content?.toString()).toBe('cp437 name');
  });

  it('reads a Zip64-marked archive written by Python with force_zip64', async () => {
    const archivePath = join(workDirectory, 'python-zip64.zip');
    runPython(
      String.raw`
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as zf:
    with zf.open('forced.bin', 'w', force_zip64=True) as f:
        f.write(b'zip64 ' * 50000)
`,
      [archivePath],
    );
    const decoded = await decodeAll(zipFormat(), bufferSource(readFileSync(archivePath)));
    expect(decoded.map((entry) => [entry.path, entry.size])).toEqual([['forced.bin', 300000]]);
    expect(decoded[0]?.content?.equals(Buffer.from('zip64 '.repeat(50000)))).toBe(true);
  });
});
