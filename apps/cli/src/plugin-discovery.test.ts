import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBentoportError } from '@bentoport/core';
import { makeScratchDir, removeScratchDirs } from '@bentoport/test-utils';
import { packageEntry } from './package-entry.js';
import { discoverPlugins, nodeModulesChain, type PluginCatalog } from './plugin-discovery.js';
import { fixtureLog, writeFixturePlugin } from './plugin-fixtures.js';
import { installHint, loadFormats, loadRegistry, loadTransports, pluginServing, servedByKind } from './plugin-loading.js';

let root: string;
let cwd: string;
let cliDirectory: string;
let env: NodeJS.ProcessEnv;

/**
 * A global prefix with the CLI and plugins installed beside it, a project with its own plugins
 * (one a newer copy of a global one, one broken), a plugin directory named in BENTOPORT_PLUGINS
 * and a package named in the config file.
 */
beforeAll(async () => {
  root = await makeScratchDir('cli-plugin-discovery');
  const global = path.join(root, 'global', 'lib', 'node_modules');
  cliDirectory = path.join(global, '@bentoport', 'cli', 'dist');
  await mkdir(cliDirectory, { recursive: true });
  await writeFixturePlugin(path.join(global, '@bentoport', 'cli', 'node_modules', '@bentoport', 'transport-s3'), { name: '@bentoport/transport-s3', kind: 'transport', serves: ['s3', 's3a'] });
  await writeFixturePlugin(path.join(global, '@bentoport', 'format-tar'), { name: '@bentoport/format-tar', kind: 'format', serves: ['tar', 'gz'] });
  await writeFixturePlugin(path.join(global, 'bentoport-registry-oci'), { name: 'bentoport-registry-oci', kind: 'registry', serves: ['oci'] });
  await writeFixturePlugin(path.join(global, 'bentoport-transport-kv'), { name: 'bentoport-transport-kv', kind: 'transport', serves: ['kv'] });
  await writeFixturePlugin(path.join(global, 'bentoport-format-future'), { name: 'bentoport-format-future', kind: 'format', serves: ['tar', 'zst'], apiVersion: 2 });

  const project = path.join(root, 'project');
  cwd = path.join(project, 'sub');
  await mkdir(cwd, { recursive: true });
  const local = path.join(project, 'node_modules');
  await writeFixturePlugin(path.join(local, 'bentoport-transport-kv'), { name: 'bentoport-transport-kv', kind: 'transport', serves: ['kv'] });
  await writeFixturePlugin(path.join(local, '@acme', 'bentoport-format-zstd'), { name: '@acme/bentoport-format-zstd', kind: 'format', serves: ['zstd'] });
  await writeFixturePlugin(path.join(local, 'not-a-plugin-name'), { name: 'not-a-plugin-name', kind: 'transport', serves: ['nap'] });
  await writeFixturePlugin(path.join(local, 'bentoport-transport-broken'), { name: 'bentoport-transport-broken', kind: 'transport', serves: ['broken'], packageJson: { keywords: undefined } });
  await writeFixturePlugin(path.join(local, '@bentoport', 'transport-test-suite'), { name: '@bentoport/transport-test-suite', kind: 'transport', serves: ['x'], packageJson: { bentoport: undefined } });
  await writeFixturePlugin(path.join(cwd, 'plugins', 'ftp'), { name: 'my-ftp', kind: 'transport', serves: ['ftp', 'ftps'] });

  const home = path.join(root, 'home');
  await mkdir(path.join(home, '.config', 'bentoport'), { recursive: true });
  await writeFile(path.join(home, '.config', 'bentoport', 'config.yaml'), 'plugins:\n  - not-a-plugin-name\n');
  env = { HOME: home, BENTOPORT_PLUGINS: './plugins/ftp' };
});
afterAll(removeScratchDirs);

const discover = (overrides: NodeJS.ProcessEnv = {}): Promise<PluginCatalog> => discoverPlugins({ env: { ...env, ...overrides }, cwd, cliDirectory });
const summary = (catalog: PluginCatalog) => catalog.plugins.map((plugin) => `${plugin.name} (${plugin.source === path.join(root, 'home', '.config', 'bentoport', 'config.yaml') ? 'config' : plugin.source})`);

describe('discoverPlugins', () => {
  it('finds listed, project and global plugins, in that order of precedence, one per package name', async () => {
    const catalog = await discover();
    expect(summary(catalog)).toEqual([
      'my-ftp (BENTOPORT_PLUGINS)',
      'not-a-plugin-name (config)',
      '@acme/bentoport-format-zstd (project)',
      'bentoport-transport-kv (project)',
      '@bentoport/transport-s3 (bentoport)',
      '@bentoport/format-tar (bentoport)',
      'bentoport-format-future (bentoport)',
      'bentoport-registry-oci (bentoport)',
    ]);
    expect(catalog.plugins[0]?.directory).toBe(path.join(cwd, 'plugins', 'ftp'));
  });

  it('skips a plugin-named package whose declaration is broken, saying why, and ignores packages that declare nothing', async () => {
    const { skipped, plugins } = await discover();
    expect(skipped).toEqual([
      { directory: path.join(root, 'project', 'node_modules', 'bentoport-transport-broken'), reason: expect.stringContaining("keywords must include 'bentoport-transport'") },
    ]);
    expect(plugins.map((plugin) => plugin.name)).not.toContain('@bentoport/transport-test-suite');
  });

  it('reads only plugin-named packages unless one is listed', async () => {
    expect(summary(await discover({ BENTOPORT_PLUGINS: '', HOME: root }))).not.toContain('not-a-plugin-name (project)');
  });

  it('fails loudly on a listed plugin that is missing or declares nothing', async () => {
    const missing = await discover({ BENTOPORT_PLUGINS: 'bentoport-transport-nowhere' }).catch((error: unknown) => error);
    expect(isBentoportError(missing, 'ERR_INVALID_OPTION')).toBe(true);
    expect((missing as Error).message).toBe(
      "[plugins] BENTOPORT_PLUGINS: plugin package 'bentoport-transport-nowhere' is not installed in a node_modules from the current directory upward nor beside bentoport (npm i -g bentoport-transport-nowhere)",
    );
    const undeclared = await discover({ BENTOPORT_PLUGINS: '@bentoport/transport-test-suite' }).catch((error: unknown) => error);
    expect((undeclared as Error).message).toMatch(/has no package.json with a "bentoport" plugin declaration$/);
    const broken = await discover({ BENTOPORT_PLUGINS: 'bentoport-transport-broken' }).catch((error: unknown) => error);
    expect((broken as Error).message).toMatch(/^\[plugins\] BENTOPORT_PLUGINS: bentoport-transport-broken: .*keywords must include 'bentoport-transport'$/);
  });
});

describe('loading', () => {
  it('imports only the plugin serving the named protocol, and hands it { env }', async () => {
    const catalog = await discover();
    const before = fixtureLog().length;
    const [kv] = await loadTransports(catalog, [{ protocol: 'kv', display: 'kv://b/x' }], env);
    expect(kv?.protocols).toEqual(['kv']);
    expect(pluginServing(catalog, 'transport', 'kv')?.source).toBe('project');
    expect(fixtureLog().slice(before)).toEqual([{ imported: 'bentoport-transport-kv' }, { made: 'bentoport-transport-kv', options: { env } }]);
  });

  it('names what is installed when nothing serves a protocol, format or registry scheme, and the CLI says how to add one', async () => {
    const catalog = await discover();
    const error = await loadTransports(catalog, [{ protocol: 'gs', display: 'gs://b/x' }], env).catch((caught: unknown) => caught);
    expect((error as Error).message).toBe("no installed transport serves protocol 'gs' (gs://b/x); installed protocols: ftp, ftps, nap, kv, s3, s3a");
    expect(installHint(error, { HOME: '/home/me' })).toBe(
      "add one: npm i -g bentoport-transport-gs, or name its package in BENTOPORT_PLUGINS or under 'plugins:' in /home/me/.config/bentoport/config.yaml (see 'bentoport plugins')",
    );
    const format = await loadFormats(catalog, ['bz2'], env).catch((caught: unknown) => caught);
    expect(installHint(format, {})).toMatch(/^add one: npm i -g bentoport-format-bz2,/);
    expect(servedByKind(catalog, 'format')).toEqual(['zstd', 'tar', 'gz', 'zst']);
    const registry = await loadRegistry(catalog, 'bentocloud', 'bentocloud://', {}).catch((caught: unknown) => caught);
    expect((registry as Error).message).toBe("no installed registry serves 'bentocloud://' (bentocloud://); installed registry schemes: oci");
    expect(installHint(new Error('other'), {})).toBeUndefined();
  });

  it('loads every usable format for sniffing, skipping one built for another apiVersion', async () => {
    const formats = await loadFormats(await discover(), 'all', env);
    expect(formats.map((format) => format.name)).toEqual(['@acme/bentoport-format-zstd', '@bentoport/format-tar']);
  });

  it('refuses a plugin built for another apiVersion from its manifest, without importing it', async () => {
    const before = fixtureLog().length;
    const error = await loadFormats(await discover(), ['zst'], env).catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_PLUGIN_VERSION')).toBe(true);
    expect(fixtureLog().slice(before)).toEqual([]);
  });

  it('returns transports in precedence order, so the earlier plugin serves a protocol two declare', async () => {
    const directory = await makeScratchDir('cli-plugin-precedence');
    await writeFixturePlugin(path.join(directory, 'first'), { name: 'first-dup', kind: 'transport', serves: ['dup'] });
    await writeFixturePlugin(path.join(directory, 'second'), { name: 'second-dup', kind: 'transport', serves: ['other', 'dup'] });
    const catalog = await discover({ BENTOPORT_PLUGINS: `${path.join(directory, 'first')},${path.join(directory, 'second')}` });
    const transports = await loadTransports(
      catalog,
      [
        { protocol: 'other', display: 'other://x' },
        { protocol: 'dup', display: 'dup://x' },
      ],
      env,
    );
    // Core's transportFor takes the first transport that lists the protocol.
    expect(transports.find((transport) => transport.protocols.includes('dup'))?.name).toBe('first-dup');
  });

  it('makes a registry with the options the CLI passes', async () => {
    const registry = await loadRegistry(await discover(), 'oci', 'oci://host/team', { url: 'oci://host/team', env });
    expect(registry.url).toBe('oci://host/team');
  });
});

describe('a broken format plugin', () => {
  let catalog: PluginCatalog;
  let brokenDirectory: string;
  beforeAll(async () => {
    const project = await makeScratchDir('cli-plugin-broken');
    brokenDirectory = path.join(project, 'node_modules', 'bentoport-format-boom');
    await writeFixturePlugin(brokenDirectory, { name: 'bentoport-format-boom', kind: 'format', serves: ['boom'], breaks: 'factory' });
    await writeFixturePlugin(path.join(project, 'node_modules', 'bentoport-format-gone'), { name: 'bentoport-format-gone', kind: 'format', serves: ['gone'], breaks: 'import' });
    catalog = await discoverPlugins({ env: { HOME: project }, cwd: project, cliDirectory });
  });

  it('is left out of sniffing with one warning line each, and the others load', async () => {
    const warnings: string[] = [];
    const formats = await loadFormats(catalog, 'all', {}, (event) => {
      if (event.type === 'warning') warnings.push(event.message);
    });
    expect(formats.map((format) => format.name)).toEqual(['@bentoport/format-tar']);
    expect(warnings).toEqual([
      `format plugin bentoport-format-boom@1.0.0 skipped for sniffing: [plugins] LOAD bentoport-format-boom@1.0.0 ${brokenDirectory}: makePlugin() failed: boom from factory; remove or upgrade bentoport-format-boom, or take it out of BENTOPORT_PLUGINS or 'plugins:' in the config file`,
      expect.stringMatching(/^format plugin bentoport-format-gone@1\.0\.0 skipped for sniffing: \[plugins\] LOAD bentoport-format-gone@1\.0\.0 .*: import .*index\.js failed: .*bentoport-fixture-missing-dependency.*; remove or upgrade bentoport-format-gone, /),
    ]);
    expect(warnings.every((warning) => !warning.includes('\n'))).toBe(true);
  });

  it('named by its token fails with a coded error naming the package', async () => {
    const error = await loadFormats(catalog, ['boom'], {}).catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toContain(`LOAD bentoport-format-boom@1.0.0 ${brokenDirectory}: makePlugin() failed: boom from factory`);
  });
});

describe('packageEntry', () => {
  it.each([
    [{ exports: './main.js' }, 'main.js'],
    [{ exports: { '.': { types: './x.d.ts', import: './esm.js', require: './cjs.cjs' } } }, 'esm.js'],
    [{ exports: { require: './cjs.cjs', default: './index.mjs' } }, 'index.mjs'],
    [{ exports: { '.': [{ node: './node.js' }, './fallback.js'], './package.json': './package.json' } }, 'node.js'],
    [{ main: 'lib/index.js' }, 'lib/index.js'],
    [{}, 'index.js'],
  ])('resolves %j as an ESM import does', (packageJson, file) => {
    expect(packageEntry('/p', packageJson)).toBe(path.join('/p', file));
  });

  it('refuses exports an ESM import cannot load', () => {
    expect(() => packageEntry('/p', { exports: { '.': { require: './cjs.cjs' } } })).toThrow(TypeError);
    expect(() => packageEntry('/p', { exports: { './sub': './sub.js' } })).toThrow('"exports" has no "." entry');
  });
});

describe('nodeModulesChain', () => {
  it('lists node_modules from a directory up to the root, skipping node_modules/node_modules', () => {
    expect(nodeModulesChain('/a/node_modules/b')).toEqual(['/a/node_modules/b/node_modules', '/a/node_modules', '/node_modules']);
  });
});
