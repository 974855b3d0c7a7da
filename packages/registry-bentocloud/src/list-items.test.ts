import { createBentoport, isBentoportError } from '@bentoport/core';
import { tarFormat } from '@bentoport/format-tar';
import path from 'node:path';
import { hashTree, makeScratchDir, removeScratchDirs, writeSampleBento } from '@bentoport/test-utils';
import { startBentoCloudApiDouble, type BentoCloudApiDouble } from '@bentoport/test-utils/bentocloud-api-double';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bentoCloudRegistry } from './index.js';

const motoEndpoint = inject('motoEndpoint');
/** The sample's `creation_time`, 2025-01-02T03:04:05.678901+00:00, in microseconds. */
const SAMPLE_CREATED = Date.UTC(2025, 0, 2, 3, 4, 5) * 1000 + 678_901;

let api: BentoCloudApiDouble;
const registry = () => bentoCloudRegistry({ endpoint: api.url, apiToken: api.token, env: {}, partSize: 64 * 1024, retryDelayMs: 5, retries: 0 });

(motoEndpoint ? describe : describe.skip)('bentoCloudRegistry listItems against the API double', () => {
  beforeAll(async () => {
    api = await startBentoCloudApiDouble({ s3Endpoint: motoEndpoint, transmission: 'proxy' });
    const home = await makeScratchDir('bentocloud-listing');
    const shared = [{ name: 'shared-weights', version: 'w1', weightsBytes: 70 * 1024 }];
    await writeSampleBento(home, { name: 'alpha', version: 'a1', models: shared, sourceFiles: 4 });
    await writeSampleBento(home, { name: 'beta', version: 'b1', models: shared, sourceFiles: 4 });
    const bentoport = createBentoport({ home, registries: [registry()], formats: [tarFormat()] });
    await bentoport.push('alpha:a1');
    await bentoport.push('beta:b1');
    // An upload that failed leaves a record whose upload_status says so: never listed.
    await api.seed('bento', 'beta', 'b2', undefined, 'failed');
    for (let index = 0; index < 230; index++) await api.seed('model', 'many', `v${String(index).padStart(3, '0')}`, undefined);
  });
  afterAll(async () => {
    await api?.close();
    await removeScratchDirs();
  });

  it('lists the organisation\'s complete bentos, named by their repository, with build_at and the manifest\'s models', async () => {
    const bentos = await registry().listItems!('bento');
    expect(bentos.map((item) => `${item.name}:${item.version}`).sort()).toEqual(['alpha:a1', 'beta:b1']);
    for (const item of bentos) {
      expect(item).toEqual({ kind: 'bento', name: item.name, version: item.version, creationTime: SAMPLE_CREATED, models: [{ name: 'shared-weights', version: 'w1' }] });
    }
  });

  it('lists one repository, and a model with its module and size', async () => {
    expect(api.record('bento', 'beta', 'b2')?.uploadStatus).toBe('failed');
    expect((await registry().listItems!('bento', { name: 'beta' })).map((item) => item.version)).toEqual(['b1']);
    expect(await registry().listItems!('bento', { name: 'never-pushed' })).toEqual([]);
    const [model, ...others] = await registry().listItems!('model', { name: 'shared-weights' });
    expect(others).toEqual([]);
    expect(model).toMatchObject({ kind: 'model', name: 'shared-weights', version: 'w1', module: 'bentoml.pytorch', creationTime: SAMPLE_CREATED });
    expect(model?.size).toBeGreaterThan(70 * 1024);
  });

  it('follows pages until the total, and rejects with ERR_ABORTED when the signal has fired', async () => {
    const before = api.calls.length;
    const many = await registry().listItems!('model', { name: 'many' });
    expect(new Set(many.map((item) => item.version)).size).toBe(230);
    expect(api.calls.slice(before).map((call) => `${call.method} ${call.path} ${call.query.replace(/^\?/, '')}`)).toEqual(
      [0, 100, 200].map((start) => `GET /model_repositories/many/models start=${start}&count=100`),
    );
    expect((await registry().listItems!('model')).length).toBe(231);
    const error = await registry().listItems!('bento', { signal: AbortSignal.abort() }).catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_ABORTED')).toBe(true);
  });

  it('is a sync endpoint: the local store syncs into BentoCloud, each model once, then nothing, then back into an empty store', async () => {
    const home = await makeScratchDir('bentocloud-sync');
    const shared = [{ name: 'sync-weights', version: 's1', weightsBytes: 70 * 1024 }];
    await writeSampleBento(home, { name: 'sync-one', version: 'o1', models: shared, sourceFiles: 4 });
    await writeSampleBento(home, { name: 'sync-two', version: 't1', models: shared, sourceFiles: 4 });
    const cloud = registry();
    const first = await createBentoport({ home, registries: [cloud], formats: [tarFormat()] }).sync('local', cloud.url, { filter: ['sync-*'] });
    // The model first (BentoCloud holds models as items of their own), then both bentos, in either order.
    expect(first.sent[0]).toMatchObject({ kind: 'model', tag: 'sync-weights:s1' });
    expect(first.sent.slice(1).map((item) => `${item.kind} ${item.tag}`).sort()).toEqual(['bento sync-one:o1', 'bento sync-two:t1']);
    expect((await createBentoport({ home, registries: [cloud] }).sync('local', cloud.url, { filter: ['sync-*'] })).sent).toEqual([]);

    const target = await makeScratchDir('bentocloud-sync-back');
    const back = await createBentoport({ home: target, registries: [registry()], formats: [tarFormat()] }).sync(cloud.url, 'local', { filter: ['sync-*'] });
    expect(back.sent).toHaveLength(3);
    for (const kind of ['bentos', 'models']) expect(await hashTree(path.join(target, kind))).toEqual(await hashTree(path.join(home, kind)));
  });
});
