import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeScratchDir, removeScratchDirs, writeSampleBento, type SampleBento } from '@bentoport/test-utils';
import { differencesFromSample, runCli } from './cli-harness.js';
import { writeFixturePlugin } from './plugin-fixtures.js';

/** The example third-party transport of this repository (built by the root test script with everything else). */
const KV_EXAMPLE = fileURLToPath(new URL('../../../examples/bentoport-transport-kv', import.meta.url));
const kvBuilt = existsSync(path.join(KV_EXAMPLE, 'dist', 'index.js'));
if (!kvBuilt && process.env.CI === 'true') throw new Error(`${KV_EXAMPLE}/dist is missing: build it first (pnpm build)`);

let home: string;
let sample: SampleBento;
/** An empty config directory, so the user's own config file never leaks into the tests. */
let config: string;
beforeAll(async () => {
  home = await makeScratchDir('cli-plugins');
  sample = await writeSampleBento(home, { models: 1, weightsBytes: 64 * 1024 });
  config = await makeScratchDir('cli-plugins-config');
});
afterAll(removeScratchDirs);

interface PluginsJson {
  plugins: Array<{ kind: string; serves: string[]; package: string; source: string; notes: string[] }>;
  skipped: unknown[];
}

describe('bentoport plugins', () => {
  it('lists the first-party plugins found beside the CLI, each with what it serves', async () => {
    const result = await runCli(['plugins', '--json'], { env: { XDG_CONFIG_HOME: config } });
    expect(result.code).toBe(0);
    const { plugins, skipped } = JSON.parse(result.stdout) as PluginsJson;
    expect(skipped).toEqual([]);
    const served = Object.fromEntries(plugins.map((plugin) => [plugin.package, `${plugin.kind} ${plugin.serves.join(',')} ${plugin.source}`]));
    expect(served).toMatchObject({
      '@bentoport/transport-fs': 'transport file bentoport',
      '@bentoport/transport-s3': 'transport s3,s3a bentoport',
      '@bentoport/format-xz': 'format bento,bentomodel,xz bentoport',
      '@bentoport/format-tar': 'format tar,gz bentoport',
      '@bentoport/registry-oci': 'registry oci bentoport',
      '@bentoport/registry-bentocloud': 'registry bentocloud bentoport',
    });
  });

  it("adds the config file's plugins (paths relative to the file) before the installed ones, and says when one shadows another", async () => {
    const xdg = await makeScratchDir('cli-plugins-xdg');
    await writeFixturePlugin(path.join(xdg, 'bentoport', 'mine'), { name: 'my-file-transport', kind: 'transport', serves: ['file'] });
    await writeFile(path.join(xdg, 'bentoport', 'config.yaml'), 'plugins:\n  - ./mine\n');
    const result = await runCli(['plugins'], { env: { XDG_CONFIG_HOME: xdg } });
    expect(result.code).toBe(0);
    expect(result.stdoutLines[0]).toMatch(/^Kind +Serves +Package +Version +Found in +Notes$/);
    expect(result.stdoutLines[1]).toMatch(new RegExp(`^transport +file +my-file-transport +1\\.0\\.0 +${path.join(xdg, 'bentoport', 'config.yaml')}$`));
    expect(result.stdout).toMatch(/transport +file +@bentoport\/transport-fs +0\.0\.0 +bentoport +file served by an earlier package/);
  });

  it('is not a models command', async () => {
    const result = await runCli(['models', 'plugins']);
    expect(result.code).toBe(2);
    expect(result.stderrLines).toEqual(["Error: unknown command 'models plugins'. See 'bentoport models --help'."]);
  });
});

describe('a third-party transport', () => {
  it.skipIf(!kvBuilt)('named in BENTOPORT_PLUGINS carries a bento out to kv:// and back into another store', async () => {
    const kvRoot = await makeScratchDir('cli-plugins-kv');
    const env = { XDG_CONFIG_HOME: config, BENTOPORT_PLUGINS: KV_EXAMPLE, BENTOPORT_KV_ROOT: kvRoot };
    const exported = await runCli(['--home', home, 'export', sample.bentoTag, 'kv://bucket/dir/x.bento'], { env });
    expect(exported.stderr).toBe('');
    expect(exported.stdoutLines[0]).toBe(`Bento(tag="${sample.bentoTag}") exported to kv://bucket/dir/x.bento.`);
    const target = await makeScratchDir('cli-plugins-b');
    const imported = await runCli(['--home', target, 'import', 'kv://bucket/dir/x.bento'], { env });
    expect(imported.code).toBe(0);
    expect(await differencesFromSample(sample, target)).toEqual([]);
  });

  it('for a scheme nothing serves, one error line lists what is installed and how to add it', async () => {
    const result = await runCli(['--home', home, 'export', sample.bentoTag, 'kv://bucket/x.bento'], { env: { XDG_CONFIG_HOME: config } });
    expect(result.code).toBe(1);
    expect(result.stderrLines).toHaveLength(1);
    expect(result.stderrLines[0]).toMatch(
      /^Error: \[bentos\] `export` failed: no installed transport serves protocol 'kv' \(kv:\/\/bucket\/x\.bento\); installed protocols: file, .*; add one: npm i -g bentoport-transport-kv, or name its package in BENTOPORT_PLUGINS or under 'plugins:' in .*config\.yaml \(see 'bentoport plugins'\)$/,
    );
  });

  it('is looked for only by commands that move bytes: list works with a broken plugin list, export reports it', async () => {
    const env = { XDG_CONFIG_HOME: config, BENTOPORT_PLUGINS: '/nonexistent/plugin-directory' };
    expect((await runCli(['--home', home, 'list'], { env })).code).toBe(0);
    const exported = await runCli(['--home', home, 'export', sample.bentoTag, path.join(config, 'x.tar')], { env });
    expect(exported.code).toBe(1);
    expect(exported.stderrLines).toEqual([
      'Error: [bentos] `export` failed: [plugins] BENTOPORT_PLUGINS: /nonexistent/plugin-directory has no package.json with a "bentoport" plugin declaration',
    ]);
  });
});

describe('the plugins a command loads', () => {
  it('project-local plugins come from node_modules above the current directory', async () => {
    const project = await makeScratchDir('cli-plugins-project');
    await writeFixturePlugin(path.join(project, 'node_modules', 'bentoport-registry-fixture'), { name: 'bentoport-registry-fixture', kind: 'registry', serves: ['fixture'] });
    await mkdir(path.join(project, 'deep', 'er'), { recursive: true });
    const result = await runCli(['plugins', '--json'], { cwd: path.join(project, 'deep', 'er'), env: { XDG_CONFIG_HOME: config } });
    const { plugins } = JSON.parse(result.stdout) as PluginsJson;
    expect(plugins[0]).toMatchObject({ package: 'bentoport-registry-fixture', kind: 'registry', serves: ['fixture'], source: 'project' });
  });

  it("a project's broken format plugin only warns on an import that sniffs, fails one named by --format, and is noted by 'plugins'", async () => {
    const project = await makeScratchDir('cli-plugins-broken');
    await writeFixturePlugin(path.join(project, 'node_modules', 'bentoport-format-boom'), { name: 'bentoport-format-boom', kind: 'format', serves: ['boom'], breaks: 'factory' });
    const env = { XDG_CONFIG_HOME: config };
    expect((await runCli(['--home', home, 'export', sample.bentoTag, 'x.tar'], { cwd: project, env })).code).toBe(0);

    const imported = await runCli(['--home', await makeScratchDir('cli-plugins-broken-store'), 'import', 'x.tar'], { cwd: project, env });
    expect(imported.code).toBe(0);
    expect(imported.stderrLines.filter((line) => line.includes('bentoport-format-boom'))).toEqual([
      expect.stringMatching(/^Warning: format plugin bentoport-format-boom@1\.0\.0 skipped for sniffing: \[plugins\] LOAD bentoport-format-boom@1\.0\.0 .*: makePlugin\(\) failed: boom from factory; remove or upgrade/),
    ]);

    const named = await runCli(['--home', home, 'import', 'x.tar', '--format', 'boom'], { cwd: project, env });
    expect(named.code).toBe(1);
    expect(named.stderrLines).toEqual([
      expect.stringMatching(/^Error: \[bentos\] `import` failed: \[plugins\] LOAD bentoport-format-boom@1\.0\.0 .*node_modules\/bentoport-format-boom: makePlugin\(\) failed: boom from factory; remove or upgrade bentoport-format-boom, or take it out of BENTOPORT_PLUGINS or 'plugins:' in the config file$/),
    ]);

    const listed = await runCli(['plugins', '--json'], { cwd: project, env });
    const { plugins } = JSON.parse(listed.stdout) as PluginsJson;
    expect(plugins.find((plugin) => plugin.package === 'bentoport-format-boom')?.notes).toEqual([expect.stringMatching(/^fails to load: \[plugins\] LOAD bentoport-format-boom@1\.0\.0 .*boom from factory/)]);
    expect(plugins.filter((plugin) => plugin.notes.some((note) => note.startsWith('fails to load')))).toHaveLength(1);
  });
});

describe('a plugin with a bug', () => {
  it('that throws where nothing catches it stops the operation, which cleans up, and exits 70 with one line and no stack', async () => {
    const project = await makeScratchDir('cli-plugins-uncaught');
    await writeFixturePlugin(path.join(project, 'node_modules', 'bentoport-transport-boom'), { name: 'bentoport-transport-boom', kind: 'transport', serves: ['boom'], breaks: 'uncaught' });
    const store = await makeScratchDir('cli-plugins-uncaught-store');
    const result = await runCli(['--home', store, 'import', 'boom://host/x.bento'], { cwd: project, env: { XDG_CONFIG_HOME: config } });
    expect(result.code).toBe(70);
    expect(result.stderrLines).toEqual([
      'Error: [bentos] `import` failed: stopped by an internal error (a bug in bentoport or a plugin); run it again with BENTOPORT_DEBUG=1 and report what it prints',
    ]);
    expect(existsSync(path.join(store, 'bentos'))).toBe(false);
  });
});
