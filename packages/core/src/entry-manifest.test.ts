import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentManifest } from './content-manifest.js';
import { entriesManifest } from './entry-manifest.js';
import { itemEntries } from './item-entries.js';

const BENTO_YAML = `service: svc:Service\nname: svc\nversion: v1\nbentoml_version: 1.4.0\ncreation_time: '2025-01-02T03:04:05.678901+00:00'\nlabels: {}\nmodels:\n- tag: weights:v1\n  module: m\n  creation_time: '2025-01-02T03:04:05.678901+00:00'\n`;

describe('the manifest of an archive, from its entries', () => {
  it('is the manifest of the same item in a store: walk order, links read through, models as sections', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'bentoport-entry-manifest-'));
    const bento = path.join(root, 'bento');
    const model = path.join(root, 'weights');
    // `a/b` sorts before `a-c` in a walk (by name, then inside), after it by whole-path bytes.
    await mkdir(path.join(bento, 'a', 'deeper'), { recursive: true });
    await mkdir(model);
    await writeFile(path.join(bento, 'bento.yaml'), BENTO_YAML);
    await writeFile(path.join(bento, 'a', 'b'), 'b');
    await writeFile(path.join(bento, 'a', 'deeper', 'c'), 'c');
    await writeFile(path.join(bento, 'a-c'), 'a-c');
    await symlink('a/b', path.join(bento, 'link-to-b'));
    await symlink('a', path.join(bento, 'link-to-a'));
    await writeFile(path.join(model, 'model.yaml'), 'name: weights\nversion: v1\n');
    await writeFile(path.join(model, 'saved_model.bin'), Buffer.alloc(5000, 7));

    const store = await contentManifest([
      { kind: 'bento', tag: 'svc:v1', directory: bento, exclude: ['models'] },
      { kind: 'model', tag: 'weights:v1', directory: model },
    ]);
    const entries = itemEntries({
      trees: [
        { directory: bento, prefix: '' },
        { directory: model, prefix: 'models/weights/v1' },
      ],
      virtualFiles: [{ path: 'models/weights/latest', content: 'v1' }],
      mtime: 1_700_000_000,
      keepSymlinks: true,
    });
    const archived = await entriesManifest(entries, 'bento', 'svc.tar');
    expect(archived.metadata.tag).toEqual({ name: 'svc', version: 'v1' });
    expect(archived.manifest.toString()).toBe(store.toString());
    expect(store.toString().indexOf('"a/b"')).toBeLessThan(store.toString().indexOf('"a-c"'));
    expect(store.toString()).toContain('"link-to-a/deeper/c"');
  });
});
