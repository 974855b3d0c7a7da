import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hashTree } from '@bentoport/test-utils';
import { describe, expect, it } from 'vitest';
import { bentoportAt, readFolderIndex, scratch, writeReleaseStore } from './sync-store.js';

describe('sync between remote stores', () => {
  it('copies archives verbatim between two stores, re-encodes into another format, and both sync back equal', async () => {
    const { root, homeA } = await scratch('sync-remote-remote-');
    await writeReleaseStore(homeA);
    const bentoport = bentoportAt(homeA);
    const first = path.join(root, 'first');
    await bentoport.sync('local', first, { filter: ['svc0', 'svc1'] });

    const copy = path.join(root, 'copy');
    const copied = await bentoport.sync(first, copy);
    const firstIndex = await readFolderIndex(first);
    const copyIndex = await readFolderIndex(copy);
    expect(copied.sent).toHaveLength(firstIndex.items.length);
    // Same bytes: the archives were copied, not encoded again.
    expect(copyIndex.items.map((item) => item.sha256)).toEqual(firstIndex.items.map((item) => item.sha256));

    const tar = path.join(root, 'tar');
    await bentoport.sync(copy, tar, { format: 'tar' });
    const tarIndex = await readFolderIndex(tar);
    expect(tarIndex.items.every((item) => item.file.endsWith('.tar'))).toBe(true);

    for (const [name, store] of [['from-copy', copy], ['from-tar', tar]] as const) {
      const home = path.join(root, name);
      await bentoportAt(home).sync(store, 'local');
      // The store synced back holds exactly the synced items, as the source holds them.
      for (const kind of ['bentos', 'models']) {
        const source = await hashTree(path.join(homeA, kind));
        for (const [entry, digest] of await hashTree(path.join(home, kind))) expect(source.get(entry), entry).toBe(digest);
      }
    }
  });

  it('refuses an archive that does not hash as the index says, and nothing enters the store', async () => {
    const { root, homeA, homeB } = await scratch('sync-corrupt-');
    await writeReleaseStore(homeA);
    const store = path.join(root, 'store');
    await bentoportAt(homeA).sync('local', store, { filter: 'svc0:v1*' });
    const index = await readFolderIndex(store);
    const bento = index.items.find((item) => item.kind === 'bento');
    if (!bento) throw new Error('no bento in the index');
    const archive = path.join(store, bento.file);
    const bytes = await readFile(archive);
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 0xff;
    await writeFile(archive, bytes);
    const target = bentoportAt(homeB);
    await expect(target.sync(store, 'local')).rejects.toMatchObject({ code: 'ERR_CORRUPT_ARCHIVE' });
    expect(await target.listBentos()).toEqual([]);
    // Into another store, the copy is checked before its write commits.
    await expect(bentoportAt(homeA).sync(store, path.join(root, 'copy'))).rejects.toMatchObject({ code: 'ERR_CORRUPT_ARCHIVE' });
  });
});
