import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBentoport } from './bentoport.js';
import { BentoportError, isBentoportError, type Registry, type RegistryItemRef } from '@bentoport/spec';
import { itemEntries } from './item-entries.js';
import { bentoportConfigPath, readDefaultRegistry } from './push-pull.js';

const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((directory) => rm(directory, { recursive: true, force: true })));
});

async function scratchDir(): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'bentoport-push-pull-'));
  scratch.push(directory);
  return directory;
}

function fakeRegistry(url: string): Registry {
  return {
    apiVersion: 1,
    name: 'fake',
    url,
    capabilities: { separateModels: true, dedup: false, resumableUploads: false },
    has: async () => false,
    push: async () => undefined,
    pull: () => (async function* () {})(),
  };
}

describe('the default registry', () => {
  it('comes from BENTOPORT_REGISTRY before the config file', async () => {
    const home = await scratchDir();
    await mkdir(path.join(home, '.config', 'bentoport'), { recursive: true });
    await writeFile(path.join(home, '.config', 'bentoport', 'config.yaml'), 'registry: oci://from-file/team\n');
    expect(await readDefaultRegistry({ HOME: home })).toEqual({ url: 'oci://from-file/team', source: bentoportConfigPath({ HOME: home }) });
    expect(await readDefaultRegistry({ HOME: home, BENTOPORT_REGISTRY: 'oci://from-env/team' })).toEqual({ url: 'oci://from-env/team', source: 'BENTOPORT_REGISTRY' });
    expect(await readDefaultRegistry({ HOME: await scratchDir() })).toBeUndefined();
  });

  it('honours XDG_CONFIG_HOME and refuses a registry that is not a string', async () => {
    const config = await scratchDir();
    await mkdir(path.join(config, 'bentoport'));
    await writeFile(path.join(config, 'bentoport', 'config.yaml'), 'registry: [1, 2]\n');
    await expect(readDefaultRegistry({ XDG_CONFIG_HOME: config })).rejects.toThrow(/must be a string/);
  });
});

describe('choosing a registry', () => {
  it('says how to configure one when there is none', async () => {
    const bentoport = createBentoport({ home: await scratchDir() });
    const error = await bentoport.pull('svc:v1').catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_INVALID_OPTION')).toBe(true);
    expect(String((error as Error).message)).toMatch(/BENTOPORT_REGISTRY/);
  });

  it('selects among several by url (credentials ignored) or name, and refuses an unknown one', async () => {
    const first = fakeRegistry('oci://a.example/team');
    const second = fakeRegistry('oci://b.example/team');
    const bentoport = createBentoport({ home: await scratchDir(), registries: [first, second] });
    // An unknown remote version: the chosen registry's pull yields nothing, so the item has no yaml.
    const error = await bentoport.pull('svc:v1', { registry: 'oci://user:pw@b.example/team/' }).catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_INVALID_METADATA')).toBe(true);
    expect(String((error as Error).message)).toContain('b.example');
    const unknown = await bentoport.pull('svc:v1', { registry: 'oci://c.example/team' }).catch((caught: unknown) => caught);
    expect(isBentoportError(unknown, 'ERR_INVALID_OPTION')).toBe(true);
    const ambiguous = await bentoport.pull('svc:v1').catch((caught: unknown) => caught);
    expect(String((ambiguous as Error).message)).toMatch(/several registries/);
  });
});

const CREATED = "creation_time: '2025-01-01T00:00:00+00:00'";
const MODELS = ['m1', 'm2', 'm3'];
const BENTO_YAML = `service: service:Svc\nname: svc\nversion: v1\n${CREATED}\nmodels:\n${MODELS.map((name) => `- tag: ${name}:v1\n  module: ''\n  ${CREATED}\n`).join('')}`;

/**
 * A registry serving items from `<remote>/<kind>/<name>/<version>` directories, as entries the way
 * a real one delivers them (the registry protocol itself is not under test here).
 */
async function directoryRegistry(remote: string): Promise<Registry> {
  const itemDirectory = (ref: RegistryItemRef) => path.join(remote, ref.kind, ref.name, ref.version);
  const bento = itemDirectory({ kind: 'bento', name: 'svc', version: 'v1' });
  await mkdir(bento, { recursive: true });
  await writeFile(path.join(bento, 'bento.yaml'), BENTO_YAML);
  for (const name of MODELS) {
    const model = itemDirectory({ kind: 'model', name, version: 'v1' });
    await mkdir(model, { recursive: true });
    await writeFile(path.join(model, 'saved_model.bin'), `weights of ${name}`);
    // The last model arrives without its model.yaml.
    if (name !== 'm3') await writeFile(path.join(model, 'model.yaml'), `name: ${name}\nversion: v1\nmodule: ''\n${CREATED}\n`);
  }
  return {
    apiVersion: 1,
    name: 'directory-registry',
    url: `test://${remote}`,
    capabilities: { separateModels: true, dedup: false, resumableUploads: false },
    has: async () => true,
    push: async () => {
      throw new BentoportError('ERR_IO', 'read-only');
    },
    pull: (ref) => itemEntries({ trees: [{ directory: itemDirectory(ref), prefix: '' }], mtime: 1_735_689_600, keepSymlinks: true }),
  };
}

/** The names in a store directory, none when it was never created. */
async function namesIn(storeDirectory: string): Promise<string[]> {
  return readdir(storeDirectory).catch(() => []);
}

describe('a pull with models that fails part-way', () => {
  it('installs neither the bento nor the models that came before the broken one', async () => {
    const registry = await directoryRegistry(await scratchDir());
    const home = await scratchDir();
    const bentoport = createBentoport({ home, registries: [registry] });
    const error = await bentoport.pull('svc:v1').catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_INVALID_METADATA')).toBe(true);
    expect(String((error as Error).message)).toContain('pull m3:v1 from test://');
    expect(await namesIn(path.join(home, 'models'))).toEqual([]);
    expect(await namesIn(path.join(home, 'bentos'))).toEqual([]);
  });

  it('installs none of the missing models of a local bento either', async () => {
    const registry = await directoryRegistry(await scratchDir());
    const home = await scratchDir();
    const local = path.join(home, 'bentos', 'svc', 'v1');
    await mkdir(local, { recursive: true });
    await writeFile(path.join(local, 'bento.yaml'), BENTO_YAML);
    const bentoport = createBentoport({ home, registries: [registry] });
    const error = await bentoport.pull('svc:v1').catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_INVALID_METADATA')).toBe(true);
    expect(await namesIn(path.join(home, 'models'))).toEqual([]);
  });
});

describe('pull of a bare name or name:latest', () => {
  /** A registry holding no item at all, that names `version` as its latest when it declares the capability. */
  function latestRegistry(latestVersion: boolean, version = 'v7'): Registry & { asked: string[]; pulled: RegistryItemRef[] } {
    const asked: string[] = [];
    const pulled: RegistryItemRef[] = [];
    return {
      ...fakeRegistry('test://latest'),
      capabilities: { separateModels: true, dedup: false, resumableUploads: false, latestVersion },
      latest: async (kind, name) => {
        asked.push(`${kind}:${name}`);
        return version;
      },
      pull: (ref) => {
        pulled.push(ref);
        return {
          [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new BentoportError('ERR_NOT_FOUND', `not here: ${ref.name}:${ref.version}`)) }),
        };
      },
      asked,
      pulled,
    };
  }

  it("asks a registry that declares latestVersion, and pulls that version", async () => {
    for (const tag of ['svc', 'svc:latest']) {
      const registry = latestRegistry(true);
      const bentoport = createBentoport({ home: await scratchDir(), registries: [registry] });
      await expect(bentoport.pull(tag)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
      expect(registry.asked).toEqual(['bento:svc']);
      expect(registry.pulled).toEqual([{ kind: 'bento', name: 'svc', version: 'v7' }]);
    }
    const models = latestRegistry(true, 'm3');
    await expect(createBentoport({ home: await scratchDir(), registries: [models] }).pullModel('weights')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    expect(models.pulled).toEqual([{ kind: 'model', name: 'weights', version: 'm3' }]);
  });

  it('keeps the old rule for a registry without the capability: a version is needed', async () => {
    const registry = latestRegistry(false);
    const bentoport = createBentoport({ home: await scratchDir(), registries: [registry] });
    await expect(bentoport.pull('svc')).rejects.toMatchObject({ code: 'ERR_INVALID_TAG' });
    expect(registry.asked).toEqual([]);
  });

  it('never asks for an explicit version', async () => {
    const registry = latestRegistry(true);
    await expect(createBentoport({ home: await scratchDir(), registries: [registry] }).pull('svc:v1')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    expect(registry.asked).toEqual([]);
    expect(registry.pulled).toEqual([{ kind: 'bento', name: 'svc', version: 'v1' }]);
  });
});
