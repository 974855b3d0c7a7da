import { createBentoport, isBentoportError, type Registry } from '@bentoport/core';
import { resolveNetworkOptions } from '@bentoport/plugin-kit';
import { makeScratchDir, removeScratchDirs, writeSampleBento } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ociRegistry } from './index.js';
import type { OciContext } from './oci-context.js';
import { pagedListing } from './paged-listing.js';
import { createRegistryClient } from './registry-client.js';

const servers = inject('oci');
const skip = servers.skip;
/** The sample's `creation_time`, 2025-01-02T03:04:05.678901+00:00, in microseconds. */
const SAMPLE_CREATED = Date.UTC(2025, 0, 2, 3, 4, 5) * 1000 + 678_901;
const prefix = `listing${process.pid}`;
const url = (repository: string) => `oci://127.0.0.1:${servers.openPort}/${repository}`;

function registryAt(repository: string): Registry {
  return ociRegistry({ url: url(repository), cacheDirectory: false, dockerConfig: false, env: {} });
}

/** Two bentos sharing one model under `prefix`, and one bento under a sibling prefix that must not be listed. */
beforeAll(async () => {
  if (skip) return;
  const home = await makeScratchDir('oci-listing');
  const shared = [{ name: 'shared-weights', version: 'w1' }];
  await writeSampleBento(home, { name: 'alpha', version: 'a1', models: shared });
  await writeSampleBento(home, { name: 'beta.v2_x', version: 'b1', models: shared });
  const bentoport = createBentoport({ home, registries: [registryAt(prefix)] });
  await bentoport.push('alpha:a1');
  await bentoport.push('beta.v2_x:b1');
  await createBentoport({ home, registries: [registryAt(`${prefix}x/other`)] }).push('alpha:a1');
});
afterAll(() => removeScratchDirs());

describe.skipIf(skip !== undefined)('registry-oci listItems against CNCF distribution', () => {
  it('lists every bento under the prefix from the catalog, with what its manifest and config say', async () => {
    const registry = registryAt(prefix);
    expect(registry.capabilities.listItems).toBe(true);
    const bentos = await registry.listItems!('bento');
    expect(bentos.map((item) => `${item.name}:${item.version}`).sort()).toEqual(['alpha:a1', 'beta.v2_x:b1']);
    for (const item of bentos) {
      expect(item).toMatchObject({ kind: 'bento', creationTime: SAMPLE_CREATED, models: [{ name: 'shared-weights', version: 'w1' }] });
      expect(item.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(item.size).toBe(await registry.size!(item));
      expect(item.document).toMatchObject({ name: item.name, version: item.version });
    }
  });

  it('lists the shared model once, with its module', async () => {
    const models = await registryAt(prefix).listItems!('model');
    expect(models).toHaveLength(1);
    expect(models[0]).toMatchObject({ kind: 'model', name: 'shared-weights', version: 'w1', creationTime: SAMPLE_CREATED, module: 'bentoml.pytorch' });
    expect(models[0]?.models).toBeUndefined();
  });

  it('lists one name without the catalog, skips a signature tag, and gives nothing for a name never pushed', async () => {
    const registry = registryAt(prefix);
    await registry.putSignature!({ kind: 'bento', name: 'alpha', version: 'a1' }, 'signature text\n');
    const alpha = await registry.listItems!('bento', { name: 'alpha' });
    expect(alpha.map((item) => item.version)).toEqual(['a1']);
    expect(await registry.listItems!('bento', { name: 'never-pushed' })).toEqual([]);
    expect(await registryAt(`${prefix}-empty`).listItems!('bento')).toEqual([]);
  });

  it('follows Link pages of tags and of the catalog', async () => {
    const client = createRegistryClient({ host: `127.0.0.1:${servers.openPort}`, scheme: 'http', network: resolveNetworkOptions('registry-oci', { env: {} }), credentials: async () => undefined, userAgent: 'bentoport-test' });
    const context = { client, display: url(prefix) } as OciContext;
    const repositories = await pagedListing(context, { path: '/v2/_catalog?n=1', scope: 'registry:catalog:*', field: 'repositories', target: 'catalog' }, undefined);
    expect(repositories).toEqual(expect.arrayContaining([`${prefix}/alpha`, `${prefix}/beta.v2_x`, `${prefix}/models/shared-weights`, `${prefix}x/other/alpha`]));
    const tags = await pagedListing(context, { path: `/v2/${prefix}/alpha/tags/list?n=1`, scope: `repository:${prefix}/alpha:pull`, field: 'tags', target: 'tags' }, undefined);
    expect(tags).toHaveLength(2);
    expect(tags).toContain('a1');
  });

  it('rejects with ERR_ABORTED when the signal has fired', async () => {
    const error = await registryAt(prefix).listItems!('bento', { signal: AbortSignal.abort() }).catch((caught: unknown) => caught);
    expect(isBentoportError(error) && error.code).toBe('ERR_ABORTED');
  });
});
