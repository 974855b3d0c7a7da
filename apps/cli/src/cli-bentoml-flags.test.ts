import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeScratchDir, removeScratchDirs, writeSampleBento, type SampleBento } from '@bentoport/test-utils';
import { runCli, type CliRunOptions } from './cli-harness.js';
import { OCI_REGISTRY_SKIP, requireRegistry, startTestOciRegistry, type TestOciRegistry } from './cli-oci-registry.js';

let home: string;
let sample: SampleBento;
let registry: TestOciRegistry | undefined;
let options: CliRunOptions;

beforeAll(async () => {
  home = await makeScratchDir('cli-flags');
  sample = await writeSampleBento(home, { models: 2, weightsBytes: 16 * 1024 });
  registry = await startTestOciRegistry();
  const scratch = await makeScratchDir('cli-flags-env');
  // No user config or cache: the registry is given on each command line.
  options = { env: { XDG_CONFIG_HOME: scratch, XDG_CACHE_HOME: scratch, BENTOPORT_STATE_DIR: scratch, HOME: scratch } };
});
afterAll(async () => {
  await registry?.stop();
  await removeScratchDirs();
});

describe("BentoML's global flags", () => {
  it.each([['-v'], ['--verbose'], ['--debug'], ['--do-not-track'], ['--context', 'default']])('accepts %s on every command', async (...flag) => {
    for (const args of [['list'], ['get', sample.bentoTag], ['models', 'list']]) {
      const result = await runCli(['--home', home, ...flag, ...args], options);
      expect(result.code, `${flag.join(' ')} ${args.join(' ')}: ${result.stderr}`).toBe(0);
    }
  });

  it('--verbose prints the plugins, the target and timings on stderr, never a password', async () => {
    const scratch = await makeScratchDir('cli-flags-verbose');
    const archive = path.join(scratch, 'out.tar.gz');
    const result = await runCli(['--home', home, 'export', sample.bentoTag, archive, '--verbose'], options);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^\[debug\] transport: transport-fs \(file\)$/m);
    expect(result.stderr).toMatch(/^\[debug\] format: .*\bgz\b/m);
    expect(result.stderr).toMatch(/^\[debug\] export transfer took \d+ ms, \d+ bytes$/m);
    expect(result.stderr).toMatch(/^\[debug\] exit 0 after \d+ ms$/m);
    // The report on stdout is unchanged.
    expect(result.stdoutLines[0]).toBe(`Bento(tag="${sample.bentoTag}") exported to ${archive}.`);

    const failed = await runCli(['--home', home, '-v', 'export', sample.bentoTag, 'http://user:hunter22@127.0.0.1:9/x.tar', '--passwd', 'other-secret'], options);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('[debug]');
    expect(failed.stderr).not.toContain('hunter22');
    expect(failed.stderr).not.toContain('other-secret');
  });
});

describe('push -t/--threads', () => {
  it('is a usage error unless a whole number of 1 or more', async () => {
    for (const value of ['0', 'many', '1.5']) {
      const result = await runCli(['--home', home, 'push', sample.bentoTag, '--registry', 'oci://127.0.0.1:9/team', '-t', value], options);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderrLines).toEqual([`Error: invalid --threads '${value}' (a whole number, 1 or more). See 'bentoport push --help'.`]);
    }
  });

  it.skipIf(OCI_REGISTRY_SKIP !== undefined)('pushes with -t N and --threads N (bentos and models)', async () => {
    registry = requireRegistry(registry);
    const target = `oci://${registry.host}/threads`;
    const model = sample.models[0]?.tag as string;
    expect((await runCli(['--home', home, 'models', 'push', model, '--registry', target, '--threads', '3'], options)).code).toBe(0);
    const pushed = await runCli(['--home', home, 'push', sample.bentoTag, '--registry', target, '-t', '2'], options);
    expect(pushed.stderr).not.toMatch(/Error/);
    expect(pushed.code).toBe(0);
  });
});

describe('models pull -F/--bentofile', () => {
  it.skipIf(OCI_REGISTRY_SKIP !== undefined)("pulls the models: of a bentofile (tags and {tag: …} mappings)", async () => {
    registry = requireRegistry(registry);
    const target = `oci://${registry.host}/bentofile`;
    const [first, second] = sample.models.map((model) => model.tag) as [string, string];
    for (const tag of [first, second]) expect((await runCli(['--home', home, 'models', 'push', tag, '--registry', target], options)).code).toBe(0);
    const project = await makeScratchDir('cli-flags-project');
    await writeFile(path.join(project, 'bentofile.yaml'), `service: "service:Svc"\nmodels:\n  - ${first}\n  - tag: ${second}\n    alias: second\n`);
    const fresh = await makeScratchDir('cli-flags-fresh');
    const pulled = await runCli(['--home', fresh, 'models', 'pull', '-F', path.join(project, 'bentofile.yaml'), '--registry', target], options);
    expect(pulled.stderr).not.toMatch(/Error/);
    expect(pulled.code).toBe(0);
    expect(pulled.stdoutLines).toEqual([`Model(tag="${first}") pulled from ${target}.`, `Model(tag="${second}") pulled from ${target}.`]);
    // Without -F, ./bentofile.yaml is read, as BentoML does; everything is there now.
    const again = await runCli(['--home', fresh, 'models', 'pull', '--bentofile', 'bentofile.yaml', '--registry', target], { ...options, cwd: project });
    expect(again.code).toBe(0);
    expect(again.stdoutLines).toEqual([`Model(tag="${first}") is already in the local store.`, `Model(tag="${second}") is already in the local store.`]);
    const implicit = await runCli(['--home', fresh, 'models', 'pull', '--registry', target], { ...options, cwd: project });
    expect(implicit.code).toBe(0);
  });

  it('is not an option of bento pull, as in BentoML', async () => {
    const result = await runCli(['--home', home, 'pull', '-F', 'bentofile.yaml'], options);
    expect(result.code).toBe(2);
  });
});

describe('pull NAME, pull NAME:latest, models pull NAME', () => {
  it.skipIf(OCI_REGISTRY_SKIP !== undefined)("fetch the registry's version created last, not the greatest version string", async () => {
    registry = requireRegistry(registry);
    const source = await makeScratchDir('cli-latest-source');
    // The newer version sorts first as a string: only the creation time can pick it.
    const older = await writeSampleBento(source, { name: 'multi', version: 'zzolderversion01', seed: 1, models: 1, weightsBytes: 4096, creationTime: '2025-01-01T00:00:00.000000+00:00' });
    const newer = await writeSampleBento(source, { name: 'multi', version: 'aanewerversion01', seed: 2, models: 1, weightsBytes: 4096, creationTime: '2025-06-01T00:00:00.000000+00:00' });
    const target = `oci://${registry.host}/latest`;
    for (const sample of [newer, older]) expect((await runCli(['--home', source, 'push', sample.bentoTag, '--registry', target], options)).code).toBe(0);

    for (const tag of ['multi', 'multi:latest']) {
      const fresh = await makeScratchDir('cli-latest-fresh');
      const pulled = await runCli(['--home', fresh, 'pull', tag, '--registry', target], options);
      expect(pulled.stderr).not.toMatch(/Error/);
      expect(pulled.code).toBe(0);
      expect(pulled.stdoutLines[0]).toBe(`Bento(tag="${newer.bentoTag}") pulled from ${target}.`);
    }
    const modelName = (newer.models[0]?.tag as string).split(':')[0] as string;
    const fresh = await makeScratchDir('cli-latest-model');
    const model = await runCli(['--home', fresh, 'models', 'pull', modelName, '--registry', target], options);
    expect(model.code).toBe(0);
    expect(model.stdoutLines).toEqual([`Model(tag="${newer.models[0]?.tag}") pulled from ${target}.`]);
    // The older version by its tag still works.
    expect((await runCli(['--home', fresh, 'pull', older.bentoTag, '--registry', target], options)).code).toBe(0);

    const missing = await runCli(['--home', fresh, 'pull', 'never_pushed', '--registry', target], options);
    expect(missing.code).toBe(1);
    expect(missing.stderrLines).toHaveLength(1);
    expect(missing.stderrLines[0]).toMatch(/^Error: \[bentos\] `pull` failed: .*no versions of bento 'never_pushed'/);
  });
});

describe('docker-style registry references', () => {
  it.skipIf(OCI_REGISTRY_SKIP !== undefined)('push and pull HOST:PORT/REPOSITORY/NAME:VERSION, --registry HOST:PORT/REPOSITORY and BENTOPORT_REGISTRY', async () => {
    registry = requireRegistry(registry);
    const [name, version] = sample.bentoTag.split(':') as [string, string];
    const pushed = await runCli(['--home', home, 'push', `${registry.host}/docker/${sample.bentoTag}`], options);
    expect(pushed.stderr).not.toMatch(/Error/);
    expect(pushed.code).toBe(0);
    expect(pushed.stdoutLines.at(-1)).toMatch(new RegExp(`^Bento\\(tag="${sample.bentoTag}"\\) pushed to ${registry.host}/docker/${name}:${version} \\(`));

    const fresh = await makeScratchDir('cli-docker-pull');
    const pulled = await runCli(['--home', fresh, 'pull', `${registry.host}/docker/${name}`], options);
    expect(pulled.code).toBe(0);
    expect(pulled.stdoutLines[0]).toBe(`Bento(tag="${sample.bentoTag}") pulled from oci://${registry.host}/docker.`);

    // The same repository as --registry and as BENTOPORT_REGISTRY, docker-style, and the registry's root.
    expect((await runCli(['--home', await makeScratchDir('cli-docker-option'), 'pull', sample.bentoTag, '--registry', `${registry.host}/docker`], options)).code).toBe(0);
    const fromEnv = await runCli(['--home', await makeScratchDir('cli-docker-env'), 'pull', name], { env: { ...options.env, BENTOPORT_REGISTRY: `${registry.host}/docker` } });
    expect(fromEnv.code).toBe(0);
    expect((await runCli(['--home', home, 'push', `${registry.host}/${sample.bentoTag}`], options)).code).toBe(0);
    expect((await runCli(['--home', await makeScratchDir('cli-docker-root'), 'pull', `${registry.host}/${sample.bentoTag}`], options)).code).toBe(0);
  });

  it.each([
    [['push', 'acme/bentos/svc:v1'], /^Error: invalid reference 'acme\/bentos\/svc:v1': use NAME\[:VERSION\], or HOST\[:PORT\]\[\/REPOSITORY\]\/NAME\[:VERSION\] to name the registry too\. See 'bentoport push --help'\.$/],
    [['pull', 'svc:v1', '--registry', './local/dir'], /^Error: invalid registry '\.\/local\/dir': a path is not a registry; .* See 'bentoport pull --help'\.$/],
    [['pull', 'svc:v1', '--registry', 'acme/bentos'], /^Error: invalid registry 'acme\/bentos': a docker-style address starts with a host/],
    [['pull', '127.0.0.1:9/team/svc:v1', '--registry', 'oci://127.0.0.1:9/other'], /^Error: '127\.0\.0\.1:9\/team\/svc:v1' names the registry oci:\/\/127\.0\.0\.1:9\/team, but --registry is oci:\/\/127\.0\.0\.1:9\/other\. /],
  ])('%s is a usage error', async (args, message) => {
    const result = await runCli(['--home', home, ...args], options);
    expect(result.code).toBe(2);
    expect(result.stderrLines).toHaveLength(1);
    expect(result.stderrLines[0]).toMatch(message);
  });
});
