import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hashTree, python, writeSampleBento } from '@bentoport/test-utils';
import { describe, expect, it } from 'vitest';
import { bentoportAt, listTree, rejectionOf, scratch } from './harness.js';

/** Python that archives a directory tree in sorted order: `mode` is a tarfile mode or `zip`. */
const SORTED_WRITER = `
import os, sys, tarfile, zipfile
root, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
paths = []
for directory, dirs, files in os.walk(root):
    dirs.sort()
    for name in sorted(dirs) + sorted(files):
        paths.append(os.path.join(directory, name))
if mode == 'zip':
    with zipfile.ZipFile(out, 'w') as archive:
        for full in paths:
            archive.write(full, os.path.relpath(full, root))
else:
    with tarfile.open(out, mode) as archive:
        for full in paths:
            archive.add(full, arcname=os.path.relpath(full, root), recursive=False)
`;

const GOOD_MODELS = ['good0', 'good1', 'good2', 'good3', 'good4', 'good5'].map((name) => ({ name, version: 'v1', weightsBytes: 4096 }));

/**
 * A bento tree as BentoML exports it, with six good embedded models and, sorted after them, a
 * seventh that has weights but no model.yaml.
 */
async function treeWithBrokenModel(root: string, homeA: string): Promise<string> {
  const sample = await writeSampleBento(homeA, { name: 'broken_bento', models: GOOD_MODELS, sourceFiles: 3 });
  const tree = path.join(root, 'tree');
  await bentoportAt(homeA).exportBento(sample.bentoTag, tree, 'folder');
  await mkdir(path.join(tree, 'models', 'missing_yaml', 'v1'), { recursive: true });
  await writeFile(path.join(tree, 'models', 'missing_yaml', 'v1', 'saved_model.bin'), 'weights without a model.yaml');
  return tree;
}

const FORMATS: Array<[string, string, string]> = [
  ['tar', 'w', 'broken.tar'],
  ['gz', 'w:gz', 'broken.tar.gz'],
  ['bz2', 'w:bz2', 'broken.tar.bz2'],
  ['bento', 'w:xz', 'broken.bento'],
  ['zip', 'zip', 'broken.zip'],
  ['folder', '', ''],
];

describe('a bento import that fails part-way changes nothing in the store', () => {
  it.each(FORMATS)('an embedded model without model.yaml keeps the good ones out too (%s)', async (format, mode, fileName) => {
    const { root, homeA, homeB } = await scratch(`broken-model-${format}`);
    const tree = await treeWithBrokenModel(root, homeA);
    let source = tree;
    if (format !== 'folder') {
      source = path.join(root, fileName);
      await python(SORTED_WRITER, [tree, source, mode]);
    }
    const b = bentoportAt(homeB);
    const error = await rejectionOf(b.importBento(source, format));
    expect(error.code).toBe('ERR_INVALID_METADATA');
    expect(error.message).toContain("does not contain a 'model.yaml' (models/missing_yaml/v1 in the archive)");
    expect(await listTree(path.join(homeB, 'models'))).toEqual([]);
    expect(await listTree(path.join(homeB, 'bentos'))).toEqual([]);
    expect(b.events.some((event) => event.type === 'notice' && event.message.includes('imported into the model store'))).toBe(false);
    expect((await listTree(path.join(homeB, 'tmp'))).filter((entry) => entry.startsWith('bentoport-staging'))).toEqual([]);
  });

  it('a model that cannot be installed takes the ones this import installed out again, and keeps those it found', async () => {
    const { root, homeA, homeB } = await scratch('model-install-fails');
    const tree = await treeWithBrokenModel(root, homeA);
    await rm(path.join(tree, 'models', 'missing_yaml'), { recursive: true });
    const archive = path.join(root, 'good.tar');
    await python(SORTED_WRITER, [tree, archive, 'w']);
    const b = bentoportAt(homeB);
    // good0 is in the store already; a file where good4's directory goes makes its install fail
    // (EEXIST from mkdir) after good1..good3 went in.
    await b.importModel(path.join(tree, 'models', 'good0', 'v1'), 'folder');
    const good0Before = await hashTree(path.join(homeB, 'models', 'good0'));
    await writeFile(path.join(homeB, 'models', 'good4'), 'not a directory');

    const error = await rejectionOf(b.importBento(archive));
    expect(error.code).toBe('ERR_ALREADY_EXISTS');
    expect(error.message).toContain(path.join(homeB, 'models', 'good4'));
    expect((await readdir(path.join(homeB, 'models'))).sort()).toEqual(['good0', 'good4']);
    expect(await hashTree(path.join(homeB, 'models', 'good0'))).toEqual(good0Before);
    expect(await listTree(path.join(homeB, 'bentos'))).toEqual([]);
    const removed = b.events.filter((event) => event.type === 'notice' && event.message.includes('removed from the model store again'));
    expect(removed.map((event) => (event.type === 'notice' ? event.message.split(' ')[1] : ''))).toEqual(['good3:v1', 'good2:v1', 'good1:v1']);

    await rm(path.join(homeB, 'models', 'good4'));
    const retry = await b.importBento(archive);
    expect(retry.modelsSkipped).toEqual(['good0:v1']);
    expect(retry.modelsImported).toEqual(['good1:v1', 'good2:v1', 'good3:v1', 'good4:v1', 'good5:v1']);
  });
});
