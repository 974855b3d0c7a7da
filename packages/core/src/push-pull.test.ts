import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBentoport } from './bentoport.js';
import { isBentoportError, type Registry } from '@bentoport/spec';
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
