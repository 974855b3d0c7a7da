import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { createBentoport, listRegistryItems, type Registry, type SyncItem } from '@bentoport/core';
import { hashTree, makeScratchDir, removeScratchDirs, writeSampleBento } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { tarFormat } from '@bentoport/format-tar';
import { fsTransport } from '@bentoport/transport-fs';
import { ociRegistry } from './index.js';
import { startFaultProxy, type FaultProxy } from './test-support/fault-proxy.js';

const servers = inject('oci');
const skip = servers.skip;
const MODEL_BYTES = 2 * 1024 * 1024;
/** Ten bentos over three shared models, each bento using two of them: a release, as the issue measures sync. */
const BENTOS = Array.from({ length: 10 }, (_, index) => `svc-${index}`);

let proxy: FaultProxy;
let home: string;
let cache: string;

beforeAll(async () => {
  if (skip) return;
  proxy = await startFaultProxy(servers.openPort);
  cache = await makeScratchDir('oci-sync-cache');
  home = await makeScratchDir('oci-sync-src');
  const models = ['m-one', 'm-two', 'm-three'].map((name) => ({ name, version: `${name.slice(2)}1`, weightsBytes: MODEL_BYTES }));
  for (const [index, name] of BENTOS.entries()) {
    await writeSampleBento(home, { name, version: `v${index}`, seed: index + 1, models: [models[index % 3], models[(index + 1) % 3]] as typeof models, sourceFiles: 6 });
  }
});
afterAll(async () => {
  await proxy?.close();
  await removeScratchDirs();
});

function registryAt(repository: string): Registry {
  return ociRegistry({ url: `oci://127.0.0.1:${proxy.port}/${repository}`, cacheDirectory: cache, dockerConfig: false, env: {} });
}

describe.skipIf(skip !== undefined)('a registry as a sync endpoint (CNCF distribution)', () => {
  it('syncs a store of bentos sharing models to the registry, each model once, then nothing, then back into an empty store', async () => {
    const url = `oci://127.0.0.1:${proxy.port}/sync${process.pid}`;
    const bentoport = createBentoport({ home, registries: [registryAt(`sync${process.pid}`)] });

    proxy.reset();
    const first = await bentoport.sync('local', url);
    const wire = proxy.clientBytes();
    // Models first, each once, then the bentos that need them.
    expect(first.sent.map((item) => item.kind)).toEqual([...Array(3).fill('model'), ...Array(BENTOS.length).fill('bento')]);
    expect(first.sent.map((item) => item.tag).sort()).toEqual(['m-one:one1', 'm-three:three1', 'm-two:two1', ...BENTOS.map((name, index) => `${name}:v${index}`)].sort());
    // The naive way: every bento exported with its two models, each model re-sent for each bento.
    const naive = BENTOS.length * 2 * MODEL_BYTES;
    console.log(`[registry-oci] sync of ${BENTOS.length} bentos over 3 models into ${url}: ${first.bytesSent} bytes sent (${wire} on the wire), naive per-bento transfer >= ${naive}`);
    expect(first.bytesSent).toBeGreaterThan(3 * MODEL_BYTES);
    expect(first.bytesSent).toBeLessThan(3 * MODEL_BYTES + 256 * 1024);
    expect(wire).toBeLessThan(naive / 2);

    proxy.reset();
    const second = await bentoport.sync('local', url);
    expect(second.sent).toEqual([]);
    expect(second.present).toHaveLength(3 + BENTOS.length);
    expect(proxy.clientBytes()).toBeLessThan(64 * 1024);
    // Listing the registry reads its catalog, tags, manifests and configs, never a layer.
    proxy.reset();
    const listing = await listRegistryItems(registryAt(`sync${process.pid}`), 'bento');
    expect(listing).toHaveLength(BENTOS.length);
    const stored = first.bytesSent as number;
    console.log(`[registry-oci] list of a ${BENTOS.length}-bento registry read ${proxy.serverBytes()} of ${stored} stored bytes (${((100 * proxy.serverBytes()) / stored).toFixed(2)}%)`);
    expect(proxy.serverBytes()).toBeLessThan(stored / 100);
    // A receive of an item DST holds (a sync killed after the push, before it was noted) sends nothing either.
    const destination = await bentoport.registryEndpoint(url);
    const held = await destination.list({});
    expect((await destination.receive({ item: held.at(-1) as SyncItem, entries: () => (async function* () {})() }, {})).bytes).toBe(0);

    const target = await makeScratchDir('oci-sync-dst');
    const back = createBentoport({ home: target, registries: [registryAt(`sync${process.pid}`)] });
    const plan = await back.sync(url, 'local', { dryRun: true });
    // A dry run counts the bytes from the manifests: each item's layer size.
    expect(plan.bytesSent).toBe(held.reduce((sum, item) => sum + (item.size ?? 0), 0));
    expect(await back.listBentos()).toEqual([]);
    const pulled = await back.sync(url, 'local');
    expect(pulled.sent).toHaveLength(3 + BENTOS.length);
    // Bytes that came down are counted, though a registry's payload has no archive to size.
    expect(pulled.bytesSent).toBeGreaterThanOrEqual(3 * MODEL_BYTES);
    for (const kind of ['bentos', 'models']) expect(await hashTree(path.join(target, kind))).toEqual(await hashTree(path.join(home, kind)));
    expect((await back.sync(url, 'local')).sent).toEqual([]);
  });

  it('continues a sync stopped half-way without sending again what arrived', async () => {
    const repository = `syncstop${process.pid}`;
    const url = `oci://127.0.0.1:${proxy.port}/${repository}`;
    const bentoport = createBentoport({ home, registries: [registryAt(repository)] });
    const controller = new AbortController();
    // Stopped as the first bento starts: every model arrived, no bento did.
    const stopped = await bentoport
      .sync('local', url, { concurrency: 1, signal: controller.signal, onProgress: (event) => event.type === 'phase' && event.item?.startsWith('bento') && controller.abort(new Error('stopped by the test')) })
      .catch((error: unknown) => error);
    expect(stopped).toMatchObject({ code: 'ERR_ABORTED' });
    const arrived = await (await bentoport.registryEndpoint(url)).list({});
    expect(arrived.filter((item) => item.kind === 'model')).toHaveLength(3);

    proxy.reset();
    const rerun = await bentoport.sync('local', url);
    expect(rerun.sent.map((item) => item.kind)).toEqual(BENTOS.map(() => 'bento'));
    expect(rerun.present.filter((label) => label.startsWith('model'))).toHaveLength(3);
    expect(proxy.clientBytes()).toBeLessThan(MODEL_BYTES);
  });

  it('leaves every item whole when two syncs run into one registry at once', async () => {
    const repository = `syncboth${process.pid}`;
    const url = `oci://127.0.0.1:${proxy.port}/${repository}`;
    const [one, two] = await Promise.allSettled([0, 1].map(() => createBentoport({ home, registries: [registryAt(repository)] }).sync('local', url, { concurrency: 2 })));
    // Both may finish, or one may lose a race for an upload session; a rerun then has nothing left to do but what it lost.
    for (const outcome of [one, two]) if (outcome?.status === 'rejected') console.log(`[registry-oci] a concurrent sync failed: ${String(outcome.reason)}`);
    expect([one, two].some((outcome) => outcome?.status === 'fulfilled')).toBe(true);
    const target = await makeScratchDir('oci-sync-both');
    const back = createBentoport({ home: target, registries: [registryAt(repository)] });
    expect((await back.sync(url, 'local')).sent).toHaveLength(3 + BENTOS.length);
    for (const kind of ['bentos', 'models']) expect(await hashTree(path.join(target, kind))).toEqual(await hashTree(path.join(home, kind)));
  });

  it('opens an item as the verified entries of a pull', async () => {
    const repository = `syncopen${process.pid}`;
    const bentoport = createBentoport({ home, registries: [registryAt(repository)] });
    await bentoport.pushModel('m-one:one1');
    const endpoint = await bentoport.registryEndpoint();
    const [model] = await endpoint.list({});
    expect(model).toMatchObject({ kind: 'model', name: 'm-one', version: 'one1', models: [] });
    const payload = await endpoint.open(model as SyncItem, {});
    let fileBytes = 0;
    for await (const entry of payload.entries({})) {
      if (entry.type !== 'file') continue;
      for await (const chunk of entry.open?.() ?? []) fileBytes += (chunk as Buffer).length;
    }
    expect(fileBytes).toBeGreaterThan(MODEL_BYTES);
  });

  it('receives from a remote store through a relay store: verified, pushed, then removed; the local store never touched', async () => {
    const remote = path.join(await makeScratchDir('oci-sync-remote'), 'store');
    // A tar store: the relay does not depend on the archive format, and the test needs no xz codec.
    const withFiles = { formats: [tarFormat()], transports: [fsTransport()] };
    await createBentoport({ home, ...withFiles }).sync('local', remote, { filter: 'svc-1*', format: 'tar' });
    const repository = `syncrelay${process.pid}`;
    const url = `oci://127.0.0.1:${proxy.port}/${repository}`;
    const relayHome = await makeScratchDir('oci-sync-relay-home');
    const relaying = createBentoport({ home: relayHome, registries: [registryAt(repository)], ...withFiles });

    const first = await relaying.sync(remote, url);
    expect(first.sent.map((item) => `${item.kind} ${item.tag}`).sort()).toEqual(['bento svc-1:v1', 'model m-three:three1', 'model m-two:two1']);
    expect(await relaying.listBentos()).toEqual([]);
    expect(await relaying.listModels()).toEqual([]);
    // The relay lived in the store's staging area and is gone with the sync.
    expect((await readdir(path.join(relayHome, 'tmp')).catch(() => [])).filter((name) => name.startsWith('bentoport-staging-'))).toEqual([]);
    expect((await relaying.sync(remote, url)).sent).toEqual([]);

    const target = await makeScratchDir('oci-sync-relay-dst');
    await createBentoport({ home: target, registries: [registryAt(repository)] }).sync(url, 'local');
    expect(await hashTree(path.join(target, 'bentos', 'svc-1'))).toEqual(await hashTree(path.join(home, 'bentos', 'svc-1')));
    for (const model of ['m-two', 'm-three']) expect(await hashTree(path.join(target, 'models', model))).toEqual(await hashTree(path.join(home, 'models', model)));
  });
});
