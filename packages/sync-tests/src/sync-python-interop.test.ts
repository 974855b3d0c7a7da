import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { hasPython, python } from '@bentoport/test-utils';
import { describe, expect, it } from 'vitest';
import { bentoportAt, readFolderIndex, scratch, writeReleaseStore } from './sync-store.js';

/** What BentoML's importer sees in an archive: Python's tarfile, as `bentoml import` opens it. */
const LIST_MEMBERS = `
import json, sys, tarfile
with tarfile.open(sys.argv[1], 'r:*') as archive:
    print(json.dumps([member.name.lstrip('./') for member in archive.getmembers()]))
`;

describe.skipIf(!hasPython())('remote store archives as BentoML reads them', () => {
  it('bentos are native archives with bento.yaml and an empty models/, models with model.yaml', async () => {
    const { root, homeA } = await scratch('sync-python-');
    await writeReleaseStore(homeA);
    const store = path.join(root, 'store');
    await bentoportAt(homeA).sync('local', store, { filter: 'svc0:v1*' });
    const index = await readFolderIndex(store);
    expect(index.items.length).toBeGreaterThan(1);
    for (const item of index.items) {
      const members = JSON.parse(await python(LIST_MEMBERS, [path.join(store, item.file)])) as string[];
      if (item.kind === 'bento') {
        expect(members).toContain('bento.yaml');
        expect(members).toContain('models');
        expect(members.filter((member) => member.startsWith('models/'))).toEqual([]);
      } else {
        expect(members).toContain('model.yaml');
        expect(members).toContain('saved_model.bin');
      }
      // The sidecar is a sha256sum file naming the archive beside it, as docs/remote-stores.md says.
      const checked = execFileSync('sha256sum', ['-c', `${path.basename(item.file)}.sha256`], { cwd: path.join(store, path.dirname(item.file)), encoding: 'utf8' });
      expect(checked.trim()).toBe(`${path.basename(item.file)}: OK`);
    }
  });
});
