import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hashTree, python, writeSampleBento } from '@bentoport/test-utils';
import { describe, expect, it } from 'vitest';
import { bentoportAt, scratch } from './harness.js';

/** The tree BentoML's export would archive: the bento plus models/<name>/<version> and models/<name>/latest. */
async function expectedExportTree(root: string, sample: Awaited<ReturnType<typeof writeSampleBento>>): Promise<string> {
  const tree = path.join(root, 'expected');
  await cp(sample.bentoPath, tree, { recursive: true, verbatimSymlinks: true });
  for (const model of sample.models) {
    const [name, version] = model.tag.split(':') as [string, string];
    await mkdir(path.join(tree, 'models', name), { recursive: true });
    await cp(model.path, path.join(tree, 'models', name, version), { recursive: true, verbatimSymlinks: true });
    await writeFile(path.join(tree, 'models', name, 'latest'), version);
  }
  await mkdir(path.join(tree, 'models'), { recursive: true });
  return tree;
}

describe('interop with Python (what BentoML runs)', () => {
  it.each([
    ['tar', 'out.tar'],
    ['gz', 'out.tar.gz'],
    ['zip', 'out.zip'],
  ])('bentoport %s archives unpack with shutil.unpack_archive into the identical tree', async (format, fileName) => {
    const { root, homeA } = await scratch(`py-unpack-${format}`);
    const sample = await writeSampleBento(homeA, { models: 2 });
    const archive = path.join(root, fileName);
    await bentoportAt(homeA).exportBento(sample.bentoTag, archive);
    const unpacked = path.join(root, 'unpacked');
    await python('import shutil, sys; shutil.unpack_archive(sys.argv[1], sys.argv[2])', [archive, unpacked]);
    const expected = await expectedExportTree(root, sample);
    if (format === 'zip') {
      // zip stores the link's target, and Python's zipfile restores no modes.
      const options = { includeModes: false, ignore: (p: string) => p === 'src/link_to_service.py' };
      expect(await hashTree(unpacked, options)).toEqual(await hashTree(expected, options));
    } else {
      expect(await hashTree(unpacked)).toEqual(await hashTree(expected));
    }
    // Python's stream mode reads only the first gzip member: we write one.
    if (format !== 'zip') {
      const count = await python(
        `import tarfile, sys\nwith tarfile.open(sys.argv[1], 'r|${format === 'gz' ? 'gz' : ''}') as t:\n  print(sum(1 for _ in t))`,
        [archive],
      );
      expect(Number(count.trim())).toBeGreaterThan(30);
    }
  });

  it.each([
    ['gztar', 'x.tar.gz'],
    ['tar', 'x.tar'],
    ['zip', 'x.zip'],
  ])('archives from shutil.make_archive(%s) import (current BentoML layout)', async (pythonFormat, fileName) => {
    const { root, homeA, homeB } = await scratch(`py-make-${pythonFormat}`);
    const sample = await writeSampleBento(homeA, { models: 2 });
    const tree = await expectedExportTree(root, sample);
    const base = path.join(root, 'made');
    const made = await python('import shutil, sys; print(shutil.make_archive(sys.argv[1], sys.argv[2], root_dir=sys.argv[3]))', [
      base,
      pythonFormat,
      tree,
    ]);
    expect(made.trim().endsWith(fileName.slice(1))).toBe(true);
    const b = bentoportAt(homeB);
    const imported = await b.importBento(made.trim());
    expect(imported.modelsImported.length).toBe(2);
    const ignoreLink = { ignore: (p: string) => p === 'src/link_to_service.py' };
    expect(await hashTree(imported.item.path, ignoreLink)).toEqual(await hashTree(sample.bentoPath, ignoreLink));
  });

  it('imports a legacy (<1.4.20) tar: plain names, no ./ root entry, breadth-first order', async () => {
    const { root, homeA, homeB } = await scratch('py-legacy');
    const sample = await writeSampleBento(homeA, { models: 1 });
    const tree = await expectedExportTree(root, sample);
    const archive = path.join(root, 'legacy.bento.tar.gz');
    await python(
      [
        'import os, sys, tarfile',
        'root = sys.argv[1]',
        "with tarfile.open(sys.argv[2], 'w:gz') as t:",
        '  queue = [""]',
        '  while queue:',
        '    rel = queue.pop(0)',
        '    for name in sorted(os.listdir(os.path.join(root, rel))):',
        '      path = os.path.join(rel, name)',
        '      t.add(os.path.join(root, path), arcname=path, recursive=False)',
        '      full = os.path.join(root, path)',
        '      if os.path.isdir(full) and not os.path.islink(full): queue.append(path)',
      ].join('\n'),
      [tree, archive],
    );
    const names = await python('import tarfile, sys; print(tarfile.open(sys.argv[1]).getnames()[:3])', [archive]);
    expect(names).not.toContain('./');
    const imported = await bentoportAt(homeB).importBento(archive);
    expect(await hashTree(imported.item.path)).toEqual(await hashTree(sample.bentoPath));
  });

  it('exports a symlink that leaves the bento as the file it points to, with a warning', async () => {
    const { root, homeA, homeB } = await scratch('outside-link');
    const sample = await writeSampleBento(homeA, { models: 0 });
    const outside = path.join(root, 'outside.txt');
    await writeFile(outside, 'shared config\n');
    await symlink(outside, path.join(sample.bentoPath, 'src', 'shared.txt'));
    const a = bentoportAt(homeA);
    await a.exportBento(sample.bentoTag, path.join(root, 'x.tar'));
    expect(a.events.some((event) => event.type === 'warning' && event.message.includes('src/shared.txt'))).toBe(true);
    const imported = await bentoportAt(homeB).importBento(path.join(root, 'x.tar'));
    const tree = await hashTree(imported.item.path);
    expect(tree.get('src/shared.txt')).toMatch(/^file:/);
  });
});
