import { readFile, readlink, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { diffTrees, hashTree } from './hash-tree.js';
import { hasPython, python } from './python.js';
import { pyyamlDump } from './pyyaml-dump.js';
import { writeSampleBento } from './sample-bento.js';
import { makeScratchDir, removeScratchDirs } from './scratch-dir.js';

afterAll(removeScratchDirs);

const withPyyaml = hasPython(['yaml']);

describe('writeSampleBento', () => {
  it('is deterministic: the same seed gives the same trees', async () => {
    const [first, second] = [await makeScratchDir('a'), await makeScratchDir('b')];
    const a = await writeSampleBento(first, { models: 2, weightsBytes: 64 * 1024 });
    const b = await writeSampleBento(second, { models: 2, weightsBytes: 64 * 1024 });
    expect(b).toEqual({ ...a, bentoPath: a.bentoPath.replace(first, second), models: a.models.map((m) => ({ ...m, path: m.path.replace(first, second) })) });
    expect(diffTrees(await hashTree(first), await hashTree(second))).toEqual([]);
  });

  it('changes with the seed', async () => {
    const [first, second] = [await makeScratchDir('a'), await makeScratchDir('b')];
    await writeSampleBento(first, { seed: 1 });
    await writeSampleBento(second, { seed: 2 });
    expect(diffTrees(await hashTree(first), await hashTree(second))).not.toEqual([]);
  });

  it('writes the store layout, latest files without newline, modes and the symlink', async () => {
    const home = await makeScratchDir('layout');
    const sample = await writeSampleBento(home);
    expect(sample.bentoTag).toBe('sample_service:u432a5xip2dc6ax4');
    expect(sample.bentoPath).toBe(path.join(home, 'bentos', 'sample_service', 'u432a5xip2dc6ax4'));
    expect(await readFile(path.join(home, 'bentos', 'sample_service', 'latest'), 'utf8')).toBe('u432a5xip2dc6ax4');
    expect(sample.models).toHaveLength(1);
    const [modelName, modelVersion] = (sample.models[0]?.tag ?? '').split(':');
    expect(modelVersion).toMatch(/^[a-z2-7]{16}$/);
    expect(await readFile(path.join(home, 'models', modelName as string, 'latest'), 'utf8')).toBe(modelVersion);
    expect((await stat(path.join(sample.models[0]?.path as string, 'saved_model.bin'))).size).toBe(256 * 1024);

    const tree = await hashTree(sample.bentoPath);
    for (const file of ['bento.yaml', 'README.md', 'src/bentofile.yaml', 'src/service.py', 'apis/openapi.yaml', 'env/python/requirements.txt', 'env/docker/Dockerfile']) {
      expect(tree.get(file)).toMatch(/^file:[0-9a-f]{64}:644$/);
    }
    expect(tree.get('env/docker/entrypoint.sh')).toMatch(/:755$/);
    expect(tree.get('src/link_to_service.py')).toBe('link:service.py');
    expect(await readlink(path.join(sample.bentoPath, 'src/link_to_service.py'))).toBe('service.py');
    expect([...tree.values()].filter((value) => value.startsWith('file:')).length).toBe(sample.bentoFiles);
    expect(sample.bentoFiles).toBe(20 + 9);
  });

  it('honours symlinkInside, executable, sourceFiles and explicit models', async () => {
    const home = await makeScratchDir('options');
    const sample = await writeSampleBento(home, {
      symlinkInside: false,
      executable: false,
      sourceFiles: 130,
      models: [{ name: 'my-model', version: 'v1', weightsBytes: 1000 }],
    });
    const tree = await hashTree(sample.bentoPath);
    expect(tree.has('src/link_to_service.py')).toBe(false);
    expect(tree.get('env/docker/entrypoint.sh')).toMatch(/:644$/);
    expect(tree.get('src/generated/part_001')).toBe('dir');
    expect(sample.models).toEqual([{ tag: 'my-model:v1', path: path.join(home, 'models', 'my-model', 'v1') }]);
    expect((await stat(path.join(home, 'models/my-model/v1/saved_model.bin'))).size).toBe(1000);
  });

  it('writes weights that compress only a little, like real float32 weights', async () => {
    const home = await makeScratchDir('weights');
    const sample = await writeSampleBento(home, { weightsBytes: 1024 * 1024 });
    const weights = await readFile(path.join(sample.models[0]?.path as string, 'saved_model.bin'));
    const ratio = gzipSync(weights).length / weights.length;
    expect(ratio).toBeGreaterThan(0.85);
    expect(ratio).toBeLessThan(0.97);
  });

  it('writes bento.yaml and model.yaml with the expected keys in order', async () => {
    const home = await makeScratchDir('yaml');
    const sample = await writeSampleBento(home, { models: 2 });
    const bento = await readFile(path.join(sample.bentoPath, 'bento.yaml'), 'utf8');
    const topKeys = bento.split('\n').filter((line) => /^[a-z_]+:/.test(line)).map((line) => line.split(':')[0]);
    expect(topKeys).toEqual([
      'service', 'name', 'version', 'bentoml_version', 'creation_time', 'labels', 'models', 'entry_service',
      'services', 'envs', 'schema', 'args', 'spec', 'image',
    ]);
    expect(bento).toContain("creation_time: '2025-01-02T03:04:05.678901+00:00'");
    expect(bento).toContain(`- tag: ${sample.models[0]?.tag}\n  module: bentoml.pytorch\n`);
    const model = await readFile(path.join(sample.models[1]?.path as string, 'model.yaml'), 'utf8');
    const modelKeys = model.split('\n').filter((line) => /^[a-z_]+:/.test(line)).map((line) => line.split(':')[0]);
    expect(modelKeys).toEqual(['name', 'version', 'module', 'labels', 'options', 'metadata', 'context', 'signatures', 'api_version', 'creation_time']);
    expect(model).toContain('  framework_name: torch\n  framework_versions:\n    torch: 2.3.0\n');
  });

  it.skipIf(!withPyyaml)('renders yaml exactly as PyYAML safe_dump(sort_keys=False) does', async () => {
    const home = await makeScratchDir('pyyaml');
    const sample = await writeSampleBento(home, { models: 2 });
    const files = [path.join(sample.bentoPath, 'bento.yaml'), ...sample.models.map((model) => path.join(model.path, 'model.yaml'))];
    const script = 'import sys, yaml\nfor p in sys.argv[1:]:\n    t = open(p).read()\n    d = yaml.safe_dump(yaml.safe_load(t), sort_keys=False)\n    print("same" if d == t else "DIFF " + p + "\\n" + d)';
    expect((await python(script, files)).trim().split('\n')).toEqual(files.map(() => 'same'));
  });
});

describe('pyyamlDump', () => {
  it.skipIf(!withPyyaml)('quotes and folds scalars as PyYAML', async () => {
    const document = {
      a: '', b: '3.11', c: 'yes', d: '2025-01-01', e: 'service:Svc', f: 'a: b', g: 'x\ny\n', h: 7, i: null, j: true,
      k: { l: 'one\ntwo' }, m: [{ n: [1, 2], o: {} }], p: "it's", q: '1.4.38', r: '-x', s: '- x', t: '0755',
    };
    const script = 'import sys, json, yaml; sys.stdout.write(yaml.safe_dump(json.loads(sys.stdin.read()), sort_keys=False))';
    expect(pyyamlDump(document)).toBe(await python(script, [], { input: JSON.stringify(document) }));
  });
});
