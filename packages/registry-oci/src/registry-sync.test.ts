import path from 'node:path';
import { createBentoport, syncItemKey, type Registry, type SyncEndpoint, type SyncItem } from '@bentoport/core';
import { hashTree, makeScratchDir, removeScratchDirs, writeSampleBento } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ociRegistry } from './index.js';
import { startFaultProxy, type FaultProxy } from './test-support/fault-proxy.js';

const servers = inject('oci');
const skip = servers.skip;
const MODEL_BYTES = 512 * 1024;
const BENTOS = ['svc-a', 'svc-b', 'svc-c', 'svc-d'];

let proxy: FaultProxy;
let home: string;
let cache: string;

/** Four bentos over three shared models (each bento uses two of them). */
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

/** The local store's items as a sync source lists them: models first, then the bentos that need them. */
async function localItems(storeHome: string): Promise<SyncItem[]> {
  const bentoport = createBentoport({ home: storeHome });
  const items = [...(await bentoport.listModels()), ...(await bentoport.listBentos())];
  return items.map((item) => ({
    kind: item.kind,
    name: item.tag.name,
    version: item.tag.version,
    creationTime: item.metadata.creationTime,
    models: item.metadata.models.filter((model) => model.registry === 'bentoml').map((model) => ({ name: model.tag.name, version: model.tag.version })),
    signed: false,
  }));
}

/** What a sync does with a registry at DST: every SRC item DST's listing lacks goes through `receive`, models first. */
async function syncInto(items: SyncItem[], destination: SyncEndpoint): Promise<{ received: string[]; bytes: number }> {
  const held = new Set((await destination.list({})).map(syncItemKey));
  const received: string[] = [];
  let bytes = 0;
  for (const item of items) {
    if (held.has(syncItemKey(item))) continue;
    const receipt = await destination.receive({ item, entries: () => (async function* () {})() }, {});
    received.push(syncItemKey(item));
    bytes += receipt.bytes;
  }
  return { received, bytes };
}

describe.skipIf(skip !== undefined)('a registry as a sync endpoint (CNCF distribution)', () => {
  it('syncs a store of bentos sharing models to the registry, each model once, then nothing, then back into an empty store', async () => {
    const repository = `sync${process.pid}`;
    const bentoport = createBentoport({ home, registries: [registryAt(repository)] });
    const destination = await bentoport.registryEndpoint();
    const items = await localItems(home);

    proxy.reset();
    const first = await syncInto(items, destination);
    const wire = proxy.clientBytes();
    expect(first.received).toEqual(items.map(syncItemKey));
    // The naive way: every bento exported with its two models, each model re-sent for each bento.
    const naive = BENTOS.length * 2 * MODEL_BYTES;
    console.log(`[registry-oci] sync of ${BENTOS.length} bentos over 3 models: ${first.bytes} bytes sent (${wire} on the wire), naive per-bento transfer ≥ ${naive}`);
    expect(first.bytes).toBeGreaterThan(3 * MODEL_BYTES);
    expect(first.bytes).toBeLessThan(3 * MODEL_BYTES + 256 * 1024);
    expect(wire).toBeLessThan(naive / 2);

    const listed = await destination.list({});
    expect(listed.map(syncItemKey).sort()).toEqual(items.map(syncItemKey).sort());
    for (const item of listed) expect(item.size).toBeGreaterThan(0);

    proxy.reset();
    const second = await syncInto(items, destination);
    expect(second).toEqual({ received: [], bytes: 0 });
    // A receive of an item DST holds (a sync killed after the push, before it noted it) sends nothing either.
    expect((await destination.receive({ item: items.at(-1) as SyncItem, entries: () => (async function* () {})() }, {})).bytes).toBe(0);
    expect(proxy.clientBytes()).toBeLessThan(64 * 1024);

    const target = await makeScratchDir('oci-sync-dst');
    const back = createBentoport({ home: target, registries: [registryAt(repository)] });
    for (const item of listed.filter((entry) => entry.kind === 'bento')) await back.pull(`${item.name}:${item.version}`);
    for (const kind of ['bentos', 'models']) expect(await hashTree(path.join(target, kind))).toEqual(await hashTree(path.join(home, kind)));
  });

  it('opens an item as the verified entries of a pull, and refuses to receive one the local store lacks', async () => {
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

    const stranger: SyncItem = { kind: 'bento', name: 'elsewhere', version: 'v9', creationTime: 0, models: [], signed: false };
    await expect(endpoint.receive({ item: stranger, entries: () => (async function* () {})() }, {})).rejects.toMatchObject({ code: 'ERR_NOT_FOUND', message: expect.stringMatching(/sync the source into it first/) });
  });
});
