import { rm } from 'node:fs/promises';
import path from 'node:path';
import { hashTree } from '@bentoport/test-utils';
import { fsTransport } from '@bentoport/transport-fs';
import { describe, expect, it } from 'vitest';
import { bentoportAt, countingTransport, naiveExportBytes, readFolderIndex, scratch, SHARED_MODELS, treeBytes, writeReleaseStore } from './sync-store.js';

describe('sync with a remote store in a folder', () => {
  it('sends each model once, nothing the second time, and syncs back to an equal store', async () => {
    const { root, homeA, homeB } = await scratch('sync-folder-');
    const tags = await writeReleaseStore(homeA);
    const counter = countingTransport(fsTransport());
    const source = bentoportAt(homeA, { transports: [counter] });
    const remote = path.join(root, 'remote');

    const first = await source.sync('local', remote);
    expect(first.sent.filter((item) => item.kind === 'model')).toHaveLength(3);
    expect(first.sent.filter((item) => item.kind === 'bento')).toHaveLength(10);
    const storeBytes = await treeBytes(remote);
    const written = counter.bytesWritten;
    const naive = await naiveExportBytes(source, tags, root);
    console.log(`sync to a folder: ${first.bytesSent} archive bytes sent (${written} archive bytes counted at the transport) vs ${naive} for a per-bento export`);
    expect(first.bytesSent).toBeLessThan(naive / 2);

    const index = await readFolderIndex(remote);
    expect(index.items).toHaveLength(13);
    expect(index.items.filter((item) => item.kind === 'model').map((item) => item.name).sort()).toEqual(SHARED_MODELS.map((model) => model.name).sort());

    counter.reset();
    const second = await source.sync('local', remote);
    expect(second.sent).toEqual([]);
    expect(second.present).toHaveLength(13);
    expect(counter.bytesWritten).toBe(0);

    counter.reset();
    const listed = await source.listRemoteBentos(remote);
    expect(listed).toHaveLength(10);
    console.log(`list of a 10-bento remote store read ${counter.bytesRead} of ${storeBytes} bytes (${((100 * counter.bytesRead) / storeBytes).toFixed(3)}%)`);
    expect(counter.bytesRead).toBeLessThan(storeBytes / 100);

    const target = bentoportAt(homeB);
    const back = await target.sync(remote, 'local');
    expect(back.sent).toHaveLength(13);
    for (const kind of ['bentos', 'models']) expect(await hashTree(path.join(homeB, kind))).toEqual(await hashTree(path.join(homeA, kind)));
  });

  it('lists and gets without an index, from archive heads', async () => {
    const { root, homeA } = await scratch('sync-noindex-');
    await writeReleaseStore(homeA);
    const counter = countingTransport(fsTransport());
    const source = bentoportAt(homeA, { transports: [counter] });
    const remote = path.join(root, 'remote');
    await source.sync('local', remote);
    await rm(path.join(remote, 'bentoport-index.json'));
    const storeBytes = await treeBytes(remote);
    counter.reset();
    const listed = await source.listRemoteBentos(remote);
    expect(listed).toHaveLength(10);
    console.log(`list without an index read ${counter.bytesRead} of ${storeBytes} bytes (${((100 * counter.bytesRead) / storeBytes).toFixed(2)}%)`);
    expect(counter.bytesRead).toBeLessThan(storeBytes / 10);
    const got = await source.getRemoteBento(remote, 'svc1:latest');
    expect(got.version.startsWith('v2')).toBe(true);
    expect((got.document as { name?: string }).name).toBe('svc1');
  });

  it('resumes an aborted sync without re-sending verified items, and imports by tag with only the models needed', async () => {
    const { root, homeA, homeB } = await scratch('sync-resume-');
    await writeReleaseStore(homeA);
    const remote = path.join(root, 'remote');
    const controller = new AbortController();
    let finished = 0;
    const source = bentoportAt(homeA);
    const aborted = source.sync('local', remote, {
      concurrency: 2,
      signal: controller.signal,
      onProgress: (event) => {
        if (event.type === 'bytes' && event.itemsDone !== undefined && event.itemsDone >= 6 && finished === 0) {
          finished = event.itemsDone;
          controller.abort();
        }
      },
    });
    await expect(aborted).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    // What arrived is known by its checksum sidecar: no archive is read to resume.
    const counter = countingTransport(fsTransport());
    const rerun = await bentoportAt(homeA, { transports: [counter] }).sync('local', remote);
    expect(counter.bytesRead).toBeLessThan(16 * 1024);
    console.log(`aborted after ${finished} items; the rerun sent ${rerun.sent.length} and found ${rerun.present.length} already there`);
    expect(rerun.present.length).toBeGreaterThanOrEqual(finished);
    expect(rerun.sent.length + rerun.present.length).toBe(13);
    expect((await readFolderIndex(remote)).items).toHaveLength(13);

    const target = bentoportAt(homeB);
    const imported = await target.importFromRemoteStore(remote, 'svc1:latest');
    const bento = imported.sent.filter((item) => item.kind === 'bento');
    expect(bento).toHaveLength(1);
    expect(imported.sent.filter((item) => item.kind === 'model').length).toBeLessThanOrEqual(3);
    const again = await target.importFromRemoteStore(remote, 'svc2:latest');
    expect(again.sent.filter((item) => item.kind === 'model').length).toBeLessThan(3);
  });

  it('dry-runs, filters, and deletes only when asked', async () => {
    const { root, homeA } = await scratch('sync-delete-');
    await writeReleaseStore(homeA);
    const remote = path.join(root, 'remote');
    const source = bentoportAt(homeA);
    const plan = await source.sync('local', remote, { dryRun: true, filter: 'svc1', latest: true });
    expect(plan.sent.map((item) => item.tag).filter((tag) => tag.startsWith('svc'))).toEqual([expect.stringMatching(/^svc1:v2/)]);
    expect(plan.bytesSent).toBeGreaterThan(0);
    expect(await treeBytes(root).catch(() => 0)).toBeGreaterThan(0);
    await source.sync('local', remote);
    await source.deleteBento('svc4');
    const kept = await source.sync('local', remote);
    expect(kept.removed).toEqual([]);
    const pruned = await source.sync('local', remote, { delete: true });
    expect(pruned.removed.map((item) => item.tag).sort()).toEqual(expect.arrayContaining([expect.stringMatching(/^svc4:/)]));
    expect((await readFolderIndex(remote)).items).toHaveLength(11);
  });

  it('a source, list or get that names no store is an error, not an empty store; a new destination is fine', async () => {
    const { root, homeA, homeB } = await scratch('sync-missing-');
    await writeReleaseStore(homeA);
    const missing = path.join(root, 'typo');
    const notFound = { name: 'BentoportError', code: 'ERR_NOT_FOUND', message: expect.stringContaining(`${missing} holds no remote store`) };
    await expect(bentoportAt(homeB).sync(missing, 'local')).rejects.toMatchObject(notFound);
    await expect(bentoportAt(homeB).listRemoteBentos(missing)).rejects.toMatchObject(notFound);
    await expect(bentoportAt(homeB).getRemoteBento(missing, 'svc0')).rejects.toMatchObject(notFound);
    expect(await bentoportAt(homeB).listBentos()).toEqual([]);

    // A store every item was deleted from still has its index: empty, not missing.
    const emptied = path.join(root, 'emptied');
    await bentoportAt(homeA).sync('local', emptied, { filter: 'svc0:*' });
    await bentoportAt(homeB).sync('local', emptied, { delete: true });
    expect((await readFolderIndex(emptied)).items).toEqual([]);
    expect(await bentoportAt(homeB).listRemoteBentos(emptied)).toEqual([]);
  });

  it('two syncs into one store at once leave a valid index', async () => {
    const { root, homeA, homeB } = await scratch('sync-concurrent-');
    await writeReleaseStore(homeA);
    const remote = path.join(root, 'remote');
    const source = bentoportAt(homeA);
    await source.sync('local', path.join(root, 'staging-copy'));
    const other = bentoportAt(homeB);
    await other.sync(path.join(root, 'staging-copy'), 'local', { filter: 'svc1' });
    await Promise.all([source.sync('local', remote, { filter: ['svc0', 'svc2', 'svc3'] }), other.sync('local', remote)]);
    const index = await readFolderIndex(remote);
    // Every item the index names arrived whole; a lost race is healed by the next sync.
    for (const item of index.items) expect((await hashTree(path.join(remote, path.dirname(item.file)))).size).toBeGreaterThan(0);
    const healed = await source.sync('local', remote, { filter: ['svc0', 'svc1', 'svc2', 'svc3'] });
    expect(healed.sent).toEqual([]);
    expect((await readFolderIndex(remote)).items.length).toBe(healed.present.length);
  });
});
