import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isBentoportError } from '@bentoport/spec';
import { readPluginSettings } from './plugin-settings.js';

const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((directory) => rm(directory, { recursive: true, force: true })));
});

/** A HOME whose ~/.config/bentoport/config.yaml holds `config` (none when undefined). */
async function homeWithConfig(config?: string): Promise<{ home: string; file: string }> {
  const home = await mkdtemp(path.join(tmpdir(), 'bentoport-plugin-settings-'));
  scratch.push(home);
  const file = path.join(home, '.config', 'bentoport', 'config.yaml');
  if (config !== undefined) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, config);
  }
  return { home, file };
}

describe('readPluginSettings', () => {
  it('reads BENTOPORT_PLUGINS (comma-separated, relative to the cwd) before the config file (relative to itself)', async () => {
    const { home, file } = await homeWithConfig('registry: oci://x/y\nplugins:\n  - bentoport-transport-kv\n  - ./local/bentoport-format-zstd\n');
    expect(await readPluginSettings({ HOME: home, BENTOPORT_PLUGINS: ' @acme/bentoport-registry-s3 , /opt/kv,, ' }, '/work')).toEqual([
      { source: 'BENTOPORT_PLUGINS', baseDirectory: '/work', entries: ['@acme/bentoport-registry-s3', '/opt/kv'] },
      { source: file, baseDirectory: path.dirname(file), entries: ['bentoport-transport-kv', './local/bentoport-format-zstd'] },
    ]);
  });

  it('is empty without the variable, the file or its plugins key', async () => {
    expect(await readPluginSettings({ HOME: (await homeWithConfig()).home })).toEqual([]);
    expect(await readPluginSettings({ HOME: (await homeWithConfig('registry: oci://x/y\n')).home })).toEqual([]);
    expect(await readPluginSettings({ HOME: (await homeWithConfig('')).home, BENTOPORT_PLUGINS: ' , ' })).toEqual([]);
  });

  it('honours XDG_CONFIG_HOME as the registry setting does', async () => {
    const { home } = await homeWithConfig();
    const xdg = path.join(home, 'xdg');
    await mkdir(path.join(xdg, 'bentoport'), { recursive: true });
    await writeFile(path.join(xdg, 'bentoport', 'config.yaml'), 'plugins: [bentoport-transport-kv]\n');
    expect((await readPluginSettings({ HOME: home, XDG_CONFIG_HOME: xdg }))[0]?.entries).toEqual(['bentoport-transport-kv']);
  });

  it.each([
    ['plugins: bentoport-transport-kv\n', "'plugins' must be a list of package names or package directories"],
    ['plugins:\n  - 3\n', "'plugins' must be a list of package names or package directories"],
    ['- plugins\n', 'must be a yaml mapping'],
    ['plugins: [\n', 'is not valid yaml'],
  ])('refuses %j with ERR_INVALID_OPTION naming the file', async (config, reason) => {
    const { home, file } = await homeWithConfig(config);
    const error = await readPluginSettings({ HOME: home }).catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toContain(reason);
  });
});
