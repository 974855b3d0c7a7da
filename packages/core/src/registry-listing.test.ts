import { isBentoportError, type Registry, type RegistryListing } from '@bentoport/spec';
import { describe, expect, it } from 'vitest';
import { getRegistryItem, listRegistryItems, registryItemYaml } from './registry-listing.js';

const SECOND = 1_000_000;

/** A registry holding `listings`, counting its listItems calls: core's side of the contract, no protocol. */
function listingRegistry(listings: RegistryListing[], capable = true): Registry & { calls: string[] } {
  const calls: string[] = [];
  return {
    apiVersion: 1,
    name: 'listing',
    url: 'memory://listing',
    capabilities: { separateModels: true, dedup: true, resumableUploads: false, ...(capable ? { listItems: true } : {}) },
    has: async () => false,
    push: async () => undefined,
    pull: () => (async function* () {})(),
    calls,
    async listItems(kind, options = {}) {
      calls.push(`${kind} ${options.name ?? '*'}`);
      return listings.filter((item) => item.kind === kind && (options.name === undefined || item.name === options.name));
    },
  };
}

const model = (name: string, version: string, size?: number): RegistryListing => ({ kind: 'model', name, version, creationTime: SECOND, module: 'bentoml.sklearn', ...(size === undefined ? {} : { size }) });
const bento = (name: string, version: string, created: number, models: string[]): RegistryListing => ({
  kind: 'bento',
  name,
  version,
  creationTime: created * SECOND,
  size: 100,
  models: models.map((tag) => ({ name: tag.split(':')[0] as string, version: tag.split(':')[1] as string })),
});

const registry = () =>
  listingRegistry([
    model('weights', 'w1', 1000),
    model('tokenizer', 't1', 10),
    model('unsized', 'u1'),
    bento('svc', 'aaa1', 10, ['weights:w1', 'tokenizer:t1']),
    bento('svc', 'aab2', 30, ['weights:w1']),
    bento('svc', 'bbb3', 20, ['weights:w1']),
    bento('other', 'x1', 40, ['unsized:u1']),
  ]);

describe('listRegistryItems', () => {
  it('lists every bento newest first, with each bento\'s model size from one listing per model name', async () => {
    const holding = registry();
    const items = await listRegistryItems(holding, 'bento');
    expect(items.map((item) => [item.tag, item.modelSize])).toEqual([
      ['other:x1', undefined],
      ['svc:aab2', 1000],
      ['svc:bbb3', 1000],
      ['svc:aaa1', 1010],
    ]);
    expect(items[0]?.registry).toBe('memory://listing');
    expect(holding.calls.sort()).toEqual(['bento *', 'model tokenizer', 'model unsized', 'model weights']);
  });

  it('reads a tag as the local list does: a name, name:version, name:latest', async () => {
    expect((await listRegistryItems(registry(), 'bento', 'svc')).map((item) => item.version)).toEqual(['aab2', 'bbb3', 'aaa1']);
    expect((await listRegistryItems(registry(), 'bento', 'svc:bbb3')).map((item) => item.version)).toEqual(['bbb3']);
    expect(await listRegistryItems(registry(), 'bento', 'svc:nope')).toEqual([]);
    expect((await listRegistryItems(registry(), 'bento', 'svc:latest')).map((item) => item.version)).toEqual(['aab2']);
    const error = await listRegistryItems(registry(), 'bento', 'missing').catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_NOT_FOUND') && error.message).toBe("no Bentos with name 'missing' found in memory://listing");
  });

  it('refuses a registry that cannot list, naming it', async () => {
    const error = await listRegistryItems(listingRegistry([], false), 'model').catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_INVALID_TARGET') && error.message).toMatch(/memory:\/\/listing \(listing\) cannot list/);
  });
});

describe('getRegistryItem', () => {
  it('resolves the newest, an exact version and a unique prefix; refuses an ambiguous prefix and an unknown tag', async () => {
    expect((await getRegistryItem(registry(), 'bento', 'svc')).version).toBe('aab2');
    expect((await getRegistryItem(registry(), 'bento', 'svc:latest')).version).toBe('aab2');
    expect((await getRegistryItem(registry(), 'bento', 'svc:bb')).version).toBe('bbb3');
    expect(await getRegistryItem(registry(), 'bento', 'svc:aaa1')).toMatchObject({ tag: 'svc:aaa1', modelSize: 1010 });
    const ambiguous = await getRegistryItem(registry(), 'bento', 'svc:aa').catch((caught: unknown) => caught);
    expect(isBentoportError(ambiguous, 'ERR_AMBIGUOUS') && ambiguous.message).toBe('Multiple svc versions found: aaa1, aab2');
    const missing = await getRegistryItem(registry(), 'model', 'weights:zz').catch((caught: unknown) => caught);
    expect(isBentoportError(missing, 'ERR_NOT_FOUND') && missing.message).toBe("Model 'weights:zz' is not found in memory://listing");
  });
});

describe('registryItemYaml', () => {
  it('prints the yaml document when the registry keeps it, else what the listing says', async () => {
    const info = await getRegistryItem(registry(), 'model', 'weights');
    expect(registryItemYaml({ ...info, document: { name: 'weights', version: 'w1', module: 'bentoml.sklearn' } })).toBe('name: weights\nversion: w1\nmodule: bentoml.sklearn\n');
    expect(registryItemYaml(info)).toMatch(/^kind: model\nname: weights\nversion: w1\n/);
  });
});
