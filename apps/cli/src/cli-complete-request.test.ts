import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeScratchDir, removeScratchDirs, writeSampleBento, type SampleBento } from '@bentoport/test-utils';
import { COMMANDS, GLOBAL_OPTIONS, GLOBAL_OPTION_VALUES, commandOptions } from './command-line.js';
import { runCli } from './cli-harness.js';

let home: string;
let sample: SampleBento;

beforeAll(async () => {
  home = await makeScratchDir('cli-complete');
  sample = await writeSampleBento(home, { models: 2, sourceFiles: 2, weightsBytes: 1024 });
});
afterAll(removeScratchDirs);

/** `bentoport __complete WORD…` against the sample store: its lines, after checking it said nothing else. */
async function complete(words: string[], env: NodeJS.ProcessEnv = { BENTOML_HOME: home }, cwd?: string): Promise<string[]> {
  const result = await runCli(['__complete', ...words], { env, ...(cwd === undefined ? {} : { cwd }) });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdoutLines;
}

describe('bentoport __complete (what the completion scripts call on TAB)', () => {
  it('offers the commands, and the model commands after models', async () => {
    expect(await complete([''])).toEqual([...Object.keys(COMMANDS), 'models']);
    expect(await complete(['models', 'de'])).toEqual(['delete']);
  });

  it("offers every flag of the command being typed, from the parser's table", async () => {
    const flags = await complete(['export', '--']);
    const expected = Object.keys(commandOptions('bentos', COMMANDS.export)).map((name) => `--${name}`);
    expect(flags.sort()).toEqual(expected.sort());
    expect(await complete(['models', 'pull', '-'])).toContain('--bentofile');
    expect(await complete(['pull', '-'])).not.toContain('--bentofile');
  });

  it('offers the values of an option, after it or after its =', async () => {
    expect(await complete(['export', '--compression', ''])).toEqual(['auto', 'max', 'store']);
    expect(await complete(['export', '--compression=m'])).toEqual(['--compression=max']);
    expect(await complete(['list', '-o', ''])).toEqual(['table', 'json', 'yaml']);
    expect(await complete(['--home', ''])).toEqual([':directories']);
  });

  it('offers the tags of the store, with name:latest, for the commands that take one', async () => {
    const tags = ['sample_service:latest', sample.bentoTag];
    expect(await complete(['export', ''])).toEqual(tags);
    expect(await complete(['get', 'sample_service:u4'])).toEqual([sample.bentoTag]);
    expect(await complete(['delete', sample.bentoTag, ''])).toEqual(tags);
    const models = sample.models.map((model) => model.tag);
    const modelTags = await complete(['models', 'delete', '']);
    expect(modelTags).toEqual(expect.arrayContaining(models));
    expect(modelTags).toContain(`${models[0]?.split(':')[0]}:latest`);
    // export's second argument is the output path; push's tag is the only argument.
    expect(await complete(['export', sample.bentoTag, ''])).toEqual([':files']);
    expect(await complete(['push', sample.bentoTag, ''])).toEqual([]);
  });

  it('reads the store of --home on the line, relative to the current directory', async () => {
    const parent = path.dirname(home);
    expect(await complete(['--home', path.basename(home), 'get', ''], {}, parent)).toEqual(['sample_service:latest', sample.bentoTag]);
    expect(await complete([`--home=${home}`, 'models', 'get', sample.models[0]?.tag.slice(0, 5) ?? ''], {})).toContain(sample.models[0]?.tag);
  });

  it('prints nothing and exits 0 when there is no store, or it cannot be read', async () => {
    const empty = await makeScratchDir('cli-complete-missing');
    const notADirectory = path.join(empty, 'file');
    await writeFile(notADirectory, 'not a store');
    for (const env of [{ BENTOML_HOME: path.join(empty, 'missing') }, { BENTOML_HOME: notADirectory }]) {
      for (const words of [['get', ''], ['models', 'delete', 's'], ['list', '']]) {
        const result = await runCli(['__complete', ...words], { env });
        expect({ words, ...env, stdout: result.stdout, stderr: result.stderr, code: result.code }).toEqual({ words, ...env, stdout: '', stderr: '', code: 0 });
      }
    }
    const broken = await runCli(['__complete', '--home', notADirectory, 'export', '']);
    expect([broken.stdout, broken.stderr, broken.code]).toEqual(['', '', 0]);
  });

  it('gives value kinds only to options that exist and take a value', () => {
    for (const spec of Object.values(COMMANDS)) {
      const kinds = { bentos: spec.optionValues, models: { ...spec.optionValues, ...spec.models?.optionValues } };
      for (const group of ['bentos', 'models'] as const) {
        const options = commandOptions(group, spec);
        for (const name of Object.keys(kinds[group] ?? {})) expect(options[name]?.type, `${group} ${spec.name} --${name}`).toBe('string');
      }
    }
    for (const name of Object.keys(GLOBAL_OPTION_VALUES)) expect(GLOBAL_OPTIONS[name]?.type, `--${name}`).toBe('string');
  });

  it('offers nothing after an unknown command or past the last argument', async () => {
    expect(await complete(['frobnicate', ''])).toEqual([]);
    expect(await complete(['get', sample.bentoTag, ''])).toEqual([]);
  });
});
