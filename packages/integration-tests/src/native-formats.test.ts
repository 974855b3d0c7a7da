import { cp, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { hashTree, python, writeSampleBento } from '@bentoport/test-utils';
import { describe, expect, it } from 'vitest';
import { bentoportAt, rejectionOf, scratch } from './harness.js';

/** The tree BentoML's export archives: the bento plus models/<name>/<version> and models/<name>/latest. */
async function exportTree(root: string, sample: Awaited<ReturnType<typeof writeSampleBento>>): Promise<string> {
  const tree = path.join(root, 'tree');
  await cp(sample.bentoPath, tree, { recursive: true, verbatimSymlinks: true });
  for (const model of sample.models) {
    const [name, version] = model.tag.split(':') as [string, string];
    await mkdir(path.join(tree, 'models', name), { recursive: true });
    await cp(model.path, path.join(tree, 'models', name, version), { recursive: true, verbatimSymlinks: true });
    await writeFile(path.join(tree, 'models', name, 'latest'), version);
  }
  return tree;
}

/** Pre-1.4.20 BentoML (PyFilesystem): plain member names, no `.` root entry. */
const LEGACY_WRITER = `
import os, sys, tarfile
root, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
with tarfile.open(out, mode) as tar:
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(dirs) + sorted(files):
            full = os.path.join(directory, name)
            tar.add(full, arcname=os.path.relpath(full, root), recursive=False)
`;

describe('BentoML native and Python-written archives', () => {
  it.each([
    ['xztar', 'current', '.bento'],
    ['bztar', 'current', '.tar.bz2'],
    ['xztar', 'legacy', '.bento'],
    ['bztar', 'legacy', '.tar.bz2'],
  ])('imports shutil.make_archive %s in the %s layout, models landing in the model store', async (kind, layout, extension) => {
    const { root, homeA, homeB } = await scratch(`py-${kind}-${layout}`);
    const sample = await writeSampleBento(homeA, { models: 2 });
    const tree = await exportTree(root, sample);
    const archive = path.join(root, `from-python${extension}`);
    if (layout === 'current') {
      // What BentoML runs: shutil.make_archive writes <base>.tar.xz / .tar.bz2; BentoML names it .bento.
      const made = await python('import shutil, sys; print(shutil.make_archive(sys.argv[1], sys.argv[2], root_dir=sys.argv[3]))', [path.join(root, 'made'), kind, tree]);
      await cp(made.trim(), archive);
    } else {
      await python(LEGACY_WRITER, [tree, archive, kind === 'xztar' ? 'w:xz' : 'w:bz2']);
    }
    const b = bentoportAt(homeB);
    const imported = await b.importBento(archive);
    expect(imported.format).toBe(kind === 'xztar' ? 'xz' : 'bz2');
    expect(await hashTree(imported.item.path)).toEqual(await hashTree(sample.bentoPath));
    expect(imported.modelsImported.sort()).toEqual(sample.models.map((model) => model.tag).sort());
    for (const model of sample.models) expect(await hashTree((await b.getModel(model.tag)).path)).toEqual(await hashTree(model.path));
  });

  it('export with no format writes <name>-<version>.bento that Python tarfile opens in stream mode, and a referenced model round-trips into an empty store', async () => {
    const { root, homeA, homeB } = await scratch('default-bento');
    const sample = await writeSampleBento(homeA, { models: 1 });
    await mkdir(path.join(root, 'out'));
    const result = await bentoportAt(homeA).exportBento(`${sample.bentoTag.split(':')[0]}:latest`, `${path.join(root, 'out')}/`);
    expect(path.basename(result.destination)).toBe(`${sample.bentoTag.replace(':', '-')}.bento`);
    execFileSync('xz', ['-t', result.destination]);
    const names = await python('import tarfile, sys\nwith tarfile.open(sys.argv[1], "r|xz") as t: print(len([m for m in t]))', [result.destination]);
    expect(Number(names.trim())).toBeGreaterThan(20);
    const b = bentoportAt(homeB);
    const imported = await b.importBento(result.destination);
    const model = sample.models[0] as { tag: string; path: string };
    expect(imported.modelsImported).toEqual([model.tag]);
    expect(await hashTree((await b.getModel(model.tag)).path)).toEqual(await hashTree(model.path));
    expect(await readdir(imported.item.path)).not.toContain('models');
  });

  it('folder export: contents land directly in a new path, nest under the version directory in an existing one, and import back', async () => {
    const { root, homeA, homeB } = await scratch('folder');
    const sample = await writeSampleBento(homeA, { models: 1 });
    const a = bentoportAt(homeA);
    const fresh = await a.exportBento(sample.bentoTag, path.join(root, 'fresh'), 'folder');
    expect(fresh.destination).toBe(path.join(root, 'fresh'));
    // BentoML's folder export dereferences symlinks: the link comes out as a file.
    const noLink = { ignore: (p: string) => p === 'src/link_to_service.py' };
    expect(await hashTree(fresh.destination, noLink)).toEqual(await hashTree(await exportTree(root, sample), noLink));

    await mkdir(path.join(root, 'existing'));
    const nested = await a.exportBento(sample.bentoTag, path.join(root, 'existing'), 'folder');
    const version = sample.bentoTag.split(':')[1] as string;
    expect(nested.destination).toBe(path.join(root, 'existing', version));
    expect((await stat(path.join(nested.destination, 'bento.yaml'))).isFile()).toBe(true);
    // Exporting again into the same existing directory would nest onto the same name: refused, never merged.
    expect((await rejectionOf(a.exportBento(sample.bentoTag, path.join(root, 'existing'), 'folder'))).code).toBe('ERR_ALREADY_EXISTS');

    const b = bentoportAt(homeB);
    const imported = await b.importBento(fresh.destination, 'folder');
    expect(imported.format).toBe('folder');
    expect(imported.modelsImported).toEqual(sample.models.map((model) => model.tag));
    expect(await hashTree(imported.item.path, noLink)).toEqual(await hashTree(sample.bentoPath, noLink));
    // A directory without the folder format is refused, as BentoML does.
    expect((await rejectionOf(bentoportAt(path.join(root, 'c')).importBento(fresh.destination))).code).toBe('ERR_INVALID_TARGET');
  });
});
