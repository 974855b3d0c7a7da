import path from 'node:path';
import { python } from '@bentoport/test-utils';
import { describe, expect, it } from 'vitest';
import { bentoportAt, listTree, rejectionOf, scratch } from './harness.js';

const BENTO_YAML = "service: service:Svc\\nname: evil\\nversion: v1\\ncreation_time: '2025-01-01T00:00:00+00:00'\\n";

/** Python that writes a tar with a valid bento.yaml plus the members `extra` adds. */
function tarScript(extra: string): string {
  return [
    'import io, sys, tarfile',
    'def add(t, name, data=b"x", **kw):',
    '  info = tarfile.TarInfo(name); info.size = len(data)',
    '  for k, v in kw.items(): setattr(info, k, v)',
    '  if not info.isreg(): info.size = 0',
    '  t.addfile(info, io.BytesIO(data) if info.isreg() else None)',
    "with tarfile.open(sys.argv[1], 'w') as t:",
    `  add(t, './bento.yaml', b"${BENTO_YAML}")`,
    ...extra.split('\n').map((line) => `  ${line}`),
  ].join('\n');
}

const CASES: Array<[string, string, string]> = [
  ['parent traversal', "add(t, '../evil.txt')", "'..' segments"],
  ['absolute path', "add(t, '/tmp/bentoport-evil.txt')", 'absolute'],
  ['symlink out of the root', "add(t, './src', type=tarfile.DIRTYPE)\nadd(t, './src/link', type=tarfile.SYMTYPE, linkname='../../etc/passwd')", 'outside'],
  ['absolute symlink', "add(t, './link', type=tarfile.SYMTYPE, linkname='/etc/passwd')", 'absolute'],
  ['hard link out of the root', "add(t, './hard', type=tarfile.LNKTYPE, linkname='../etc/passwd')", "'..'"],
  ['character device', "add(t, './dev', type=tarfile.CHRTYPE, devmajor=1, devminor=3)", 'device'],
  ['FIFO', "add(t, './fifo', type=tarfile.FIFOTYPE)", 'FIFO'],
  ['duplicate path', "add(t, './a.txt')\nadd(t, './a.txt')", 'twice'],
  ['case collision', "add(t, './Model.bin')\nadd(t, './model.bin')", 'collides'],
  ['write through a symlinked directory', "add(t, './d', type=tarfile.SYMTYPE, linkname='.')\nadd(t, './d/x')", 'symlink'],
];

describe('hostile archives are refused and nothing reaches the store', () => {
  it.each(CASES)('%s', async (_name, members, reason) => {
    const { root, homeA } = await scratch('hostile');
    const archive = path.join(root, 'evil.tar');
    await python(tarScript(members), [archive]);
    const a = bentoportAt(homeA);
    const error = await rejectionOf(a.importBento(archive));
    expect(error.code).toBe('ERR_UNSAFE_ARCHIVE');
    expect(error.message).toContain(reason);
    expect(await listTree(path.join(homeA, 'bentos'))).toEqual([]);
    expect(await listTree(path.join(homeA, 'models'))).toEqual([]);
    expect((await listTree(path.join(homeA, 'tmp'))).filter((entry) => entry.startsWith('bentoport-staging'))).toEqual([]);
    expect(await listTree(path.dirname(root))).not.toContain('evil.txt');
  });

  it('fails cleanly, without hanging, on a directory header that claims a size (GNU tar errors too)', async () => {
    const { root, homeA } = await scratch('dir-with-size');
    const archive = path.join(root, 'odd.tar');
    await python(
      `${tarScript('')}\nwith tarfile.open(sys.argv[1], 'a') as t:\n  i = tarfile.TarInfo('./src'); i.type = tarfile.DIRTYPE; i.size = 1\n  t.addfile(i, io.BytesIO(b'x'))\n  add(t, './src/a.py', b'print(1)')`,
      [archive],
    );
    const error = await rejectionOf(bentoportAt(homeA).importBento(archive));
    expect(error.code).toBe('ERR_CORRUPT_ARCHIVE');
    expect(await listTree(path.join(homeA, 'bentos'))).toEqual([]);
  });

  it('refuses a zip entry that climbs out', async () => {
    const { root, homeA } = await scratch('hostile-zip');
    const archive = path.join(root, 'evil.zip');
    await python(
      `import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z:\n  z.writestr('bento.yaml', "${BENTO_YAML}")\n  z.writestr('../evil.txt', 'x')`,
      [archive],
    );
    const error = await rejectionOf(bentoportAt(homeA).importBento(archive));
    expect(error.code).toBe('ERR_UNSAFE_ARCHIVE');
    expect(await listTree(path.join(homeA, 'bentos'))).toEqual([]);
  });

  it('stops a decompression bomb at the ratio limit', async () => {
    const { root, homeA } = await scratch('bomb');
    const archive = path.join(root, 'bomb.tar.gz');
    await python(
      [
        'import io, sys, tarfile',
        "with tarfile.open(sys.argv[1], 'w:gz') as t:",
        `  y = b"${BENTO_YAML}"; i = tarfile.TarInfo('bento.yaml'); i.size = len(y); t.addfile(i, io.BytesIO(y))`,
        "  i = tarfile.TarInfo('zeros.bin'); i.size = 64 * 1024 * 1024",
        '  class Z(io.RawIOBase):',
        '    def readinto(self, b): b[:] = bytes(len(b)); return len(b)',
        '  t.addfile(i, Z())',
      ].join('\n'),
      [archive],
    );
    const a = bentoportAt(homeA, { limits: { ratioGraceBytes: 8 * 1024 * 1024, maxCompressionRatio: 100 } });
    const error = await rejectionOf(a.importBento(archive));
    expect(error.code).toBe('ERR_UNSAFE_ARCHIVE');
    expect(error.message).toContain('compression ratio');
  });

  it('names a missing bento.yaml in BentoML words', async () => {
    const { root, homeA } = await scratch('no-yaml');
    const archive = path.join(root, 'nested.tar');
    await python(
      `import io, sys, tarfile\nwith tarfile.open(sys.argv[1], 'w') as t:\n  y = b"${BENTO_YAML}"; i = tarfile.TarInfo('top/bento.yaml'); i.size = len(y); t.addfile(i, io.BytesIO(y))`,
      [archive],
    );
    const error = await rejectionOf(bentoportAt(homeA).importBento(archive));
    expect(error.code).toBe('ERR_INVALID_METADATA');
    expect(error.message).toContain("Failed to load bento because it does not contain a 'bento.yaml'");
  });
});
