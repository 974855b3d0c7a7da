import { createHash } from 'node:crypto';
import { lstat, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { hashTree, writeSampleBento } from '@bentoport/test-utils';
import { describe, expect, it } from 'vitest';
import { bentoportAt, listTree, rejectionOf, scratch } from './harness.js';

const FORMATS = [
  ['tar', 'sample.tar'],
  ['gz', 'sample.tar.gz'],
  ['zip', 'sample.zip'],
] as const;

describe.each(FORMATS)('export → import round trip (%s)', (format, fileName) => {
  it('moves the bento and its models into another store unchanged, leaving the source store untouched', async () => {
    const { root, homeA, homeB } = await scratch(`round-${format}`);
    const sample = await writeSampleBento(homeA, { models: 2, weightsBytes: 3 * 1024 * 1024 + 17 });
    const storeBefore = await hashTree(homeA);
    const a = bentoportAt(homeA);
    const archive = path.join(root, fileName);

    const exported = await a.exportBento(sample.bentoTag, archive);
    expect(exported.format).toBe(format);
    expect(exported.destination).toBe(archive);
    const bytes = await readFile(archive);
    expect(exported.size).toBe(bytes.length);
    expect(exported.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    // BentoML copies models into the store's bento folder during export; we never touch the store.
    expect(await hashTree(homeA)).toEqual(storeBefore);

    const b = bentoportAt(homeB);
    const imported = await b.importBento(archive);
    expect(imported.format).toBe(format);
    expect(imported.sha256).toBe(exported.sha256);
    expect(imported.modelsImported.sort()).toEqual(sample.models.map((model) => model.tag).sort());
    expect(imported.item.path).toBe(path.join(homeB, 'bentos', ...sample.bentoTag.split(':')));
    // zip stores no symlinks: the link comes back as the file it pointed to.
    const linkPath = 'src/link_to_service.py';
    const expected = await hashTree(sample.bentoPath);
    const actual = await hashTree(imported.item.path);
    if (format === 'zip') {
      expect(actual.get(linkPath)).toBe(expected.get('src/service.py'));
      expected.delete(linkPath);
      actual.delete(linkPath);
    } else {
      expect(await readlink(path.join(imported.item.path, linkPath))).toBe('service.py');
    }
    expect(actual).toEqual(expected);
    for (const model of sample.models) {
      const [name, version] = model.tag.split(':') as [string, string];
      expect(await hashTree(path.join(homeB, 'models', name, version))).toEqual(await hashTree(model.path));
      expect(await readFile(path.join(homeB, 'models', name, 'latest'), 'utf8')).toBe(version);
    }
    expect((await stat(path.join(imported.item.path, 'env/docker/entrypoint.sh'))).mode & 0o777).toBe(0o755);
    // The bento enters without models/, and nothing is left in the staging area.
    await expect(lstat(path.join(imported.item.path, 'models'))).rejects.toThrow();
    expect((await listTree(path.join(homeB, 'tmp'))).filter((entry) => !entry.startsWith('bentoport-locks'))).toEqual([]);
    expect(await readFile(path.join(homeB, 'bentos', sample.bentoTag.split(':')[0] as string, 'latest'), 'utf8')).toBe(
      sample.bentoTag.split(':')[1],
    );
  });

  it('writes byte-identical archives twice and in any time zone', async () => {
    const { root, homeA } = await scratch(`repro-${format}`);
    const sample = await writeSampleBento(homeA, { models: 1 });
    const a = bentoportAt(homeA);
    const originalTz = process.env.TZ;
    try {
      process.env.TZ = 'UTC';
      const first = await a.exportBento(sample.bentoTag, path.join(root, `1-${fileName}`));
      process.env.TZ = 'America/St_Johns';
      const second = await a.exportBento(sample.bentoTag, path.join(root, `2-${fileName}`));
      expect(second.sha256).toBe(first.sha256);
    } finally {
      process.env.TZ = originalTz;
    }
  });
});

describe('streams', () => {
  it('exports to a writable stream and imports from a readable one (zip spools: no random access)', async () => {
    const { homeA, homeB } = await scratch('streams');
    const sample = await writeSampleBento(homeA, { models: 1 });
    for (const format of ['gz', 'zip', 'tar'] as const) {
      const sink = new PassThrough();
      const chunks: Buffer[] = [];
      sink.on('data', (chunk: Buffer) => chunks.push(chunk));
      const exported = await bentoportAt(homeA).exportBento(sample.bentoTag, sink, format);
      expect(exported.destination).toBe('-');
      const b = bentoportAt(path.join(homeB, format));
      const imported = await b.importBento(Readable.from([Buffer.concat(chunks)]));
      expect(imported.format).toBe(format);
      expect(imported.sha256).toBe(exported.sha256);
      expect(await hashTree(imported.item.path, { ignore: (p) => p === 'src/link_to_service.py' })).toEqual(
        await hashTree(sample.bentoPath, { ignore: (p) => p === 'src/link_to_service.py' }),
      );
    }
  });
});

describe('store semantics of import', () => {
  it('refuses an existing tag in BentoML words and changes nothing', async () => {
    const { root, homeA } = await scratch('exists');
    const sample = await writeSampleBento(homeA);
    const a = bentoportAt(homeA);
    const archive = path.join(root, 'x.tar.gz');
    await a.exportBento(sample.bentoTag, archive);
    const before = await hashTree(homeA);
    const error = await rejectionOf(a.importBento(archive));
    expect(error.code).toBe('ERR_ALREADY_EXISTS');
    expect(error.message).toBe(`Item '${sample.bentoTag}' already exists in the store ${path.join(homeA, 'bentos')}`);
    expect(await hashTree(homeA, { ignore: (p) => p.startsWith('tmp') })).toEqual(
      new Map([...before].filter(([key]) => !key.startsWith('tmp'))),
    );
  });

  it('skips models the store already has, with a notice, and imports the bento', async () => {
    const { root, homeA, homeB } = await scratch('skip-models');
    const first = await writeSampleBento(homeA, { name: 'first', models: [{ name: 'shared', version: 'v1' }] });
    const second = await writeSampleBento(homeA, { name: 'second', version: 'v2abc', models: [{ name: 'shared', version: 'v1' }] });
    const a = bentoportAt(homeA);
    await a.exportBento(first.bentoTag, path.join(root, 'first.tar'));
    await a.exportBento(second.bentoTag, path.join(root, 'second.tar'));
    const b = bentoportAt(homeB);
    expect((await b.importBento(path.join(root, 'first.tar'))).modelsImported).toEqual(['shared:v1']);
    const result = await b.importBento(path.join(root, 'second.tar'));
    expect(result.modelsSkipped).toEqual(['shared:v1']);
    expect(b.events.some((event) => event.type === 'notice' && event.message.includes('shared:v1 already exists'))).toBe(true);
    expect((await b.listBentos()).map((item) => item.tag.name)).toEqual(['first', 'second']);
  });

  it('imports an old bento without moving latest (newest creation_time wins)', async () => {
    const { root, homeA, homeB } = await scratch('latest');
    const old = await writeSampleBento(homeA, { version: 'old1', creationTime: '2020-01-01T00:00:00+00:00', models: 0 });
    const fresh = await writeSampleBento(homeB, { version: 'new1', creationTime: '2025-01-01T00:00:00+00:00', models: 0 });
    await bentoportAt(homeA).exportBento(old.bentoTag, path.join(root, 'old.tar'));
    const b = bentoportAt(homeB);
    await b.getBento('sample_service');
    await b.importBento(path.join(root, 'old.tar'));
    expect((await b.getBento('sample_service')).tag.version).toBe('new1');
    expect(fresh.bentoTag).toBe('sample_service:new1');
  });
});

describe('models', () => {
  it('exports and imports a model on its own', async () => {
    const { root, homeA, homeB } = await scratch('model');
    const sample = await writeSampleBento(homeA, { models: 1 });
    const model = sample.models[0] as { tag: string; path: string };
    const exported = await bentoportAt(homeA).exportModel(model.tag, path.join(root, 'm.tar.gz'));
    const imported = await bentoportAt(homeB).importModel(path.join(root, 'm.tar.gz'));
    expect(imported.item.tag).toMatchObject({ name: model.tag.split(':')[0] });
    expect(await hashTree(imported.item.path)).toEqual(await hashTree(model.path));
    expect(imported.sha256).toBe(exported.sha256);
  });

  it('names a referenced model missing from the store, and warns about Hugging Face references', async () => {
    const { root, homeA } = await scratch('missing-model');
    const sample = await writeSampleBento(homeA, { models: 1 });
    const a = bentoportAt(homeA);
    const yamlPath = path.join(sample.bentoPath, 'bento.yaml');
    const yaml = await readFile(yamlPath, 'utf8');
    await writeFile(
      yamlPath,
      yaml.replace(
        /^models:\n/m,
        "models:\n- tag: org--hub-model:0123456789abcdef0123456789abcdef\n  module: ''\n  creation_time: '2025-01-02T03:04:05+00:00'\n  registry: huggingface\n",
      ),
    );
    await a.exportBento(sample.bentoTag, path.join(root, 'ok.tar'));
    expect(a.events.some((event) => event.type === 'warning' && event.message.includes('org--hub-model'))).toBe(true);
    await a.deleteModel((sample.models[0] as { tag: string }).tag).catch(() => undefined); // refused: in use
    const [name, version] = (sample.models[0] as { tag: string }).tag.split(':') as [string, string];
    const { rm } = await import('node:fs/promises');
    await rm(path.join(homeA, 'models', name), { recursive: true });
    const error = await rejectionOf(a.exportBento(sample.bentoTag, path.join(root, 'x.tar')));
    expect(error.code).toBe('ERR_NOT_FOUND');
    expect(error.message).toContain(`Model '${name}:${version}' used by bento '${sample.bentoTag}'`);
    await expect(lstat(path.join(root, 'x.tar'))).rejects.toThrow();
  });

  it("refuses to delete a model a bento uses, with BentoML's message", async () => {
    const { homeA } = await scratch('in-use');
    const sample = await writeSampleBento(homeA, { models: 1 });
    const a = bentoportAt(homeA);
    const modelTag = (sample.models[0] as { tag: string }).tag;
    const error = await rejectionOf(a.deleteModel(modelTag));
    expect(error.code).toBe('ERR_IN_USE');
    expect(error.message).toBe(`Model ${modelTag} is being used by the following bentos and can't be deleted:\n  ${sample.bentoTag}`);
    await a.deleteBento(sample.bentoTag);
    expect((await a.deleteModel(modelTag)).length).toBe(1);
    expect(await a.listModels()).toEqual([]);
  });
});
