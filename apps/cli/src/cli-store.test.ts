import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeScratchDir, removeScratchDirs, writeSampleBento, type SampleBento } from '@bentoport/test-utils';
import { runCli } from './cli-harness.js';

let home: string;
let sample: SampleBento;
let newer: SampleBento;
const TAG = 'sample_service:u432a5xip2dc6ax4';

beforeAll(async () => {
  home = await makeScratchDir('cli-store');
  sample = await writeSampleBento(home, { models: 1 });
  newer = await writeSampleBento(home, {
    name: 'newer_service',
    version: 'abcdefghijklmnop',
    seed: 2,
    models: 1,
    creationTime: '2025-06-01T00:00:00+00:00',
  });
});
afterAll(removeScratchDirs);

describe('list', () => {
  it('prints a table like BentoML, newest first', async () => {
    const result = await runCli(['--home', home, 'list']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [header, first, second] = result.stdoutLines;
    expect(header).toMatch(/^Tag\s+Size\s+Model Size\s+Creation Time$/);
    expect(first).toMatch(/^newer_service:abcdefghijklmnop\s+\d+\.\d{2} KiB\s+\d+\.\d{2} KiB\s+2025-0[56]-\d\d \d\d:\d\d:\d\d$/);
    expect(second).toMatch(/^sample_service:u432a5xip2dc6ax4\s+\d+\.\d{2} KiB\s+256\.\d\d KiB\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(result.stdoutLines).toHaveLength(3);
  });

  it('filters by name and prints json and yaml', async () => {
    const json = await runCli(['--home', home, 'list', 'sample_service', '-o', 'json']);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ tag: TAG, path: sample.bentoPath, size_bytes: sample.bentoBytes });
    expect(Object.keys(rows[0] ?? {})).toEqual(expect.arrayContaining(['tag', 'size', 'model_size', 'creation_time']));
    expect(await runCli(['--home', home, 'list', 'sample_service', '--json'])).toMatchObject({ stdout: json.stdout });

    const yaml = await runCli(['--home', home, 'list', '-o', 'yaml']);
    expect(yaml.code).toBe(0);
    expect(yaml.stdoutLines.filter((line) => line.startsWith('- '))).toHaveLength(2);
    expect(yaml.stdout).toContain(`  tag: ${TAG}\n`);
  });

  it('lists models with Tag, Module, Size, Creation Time', async () => {
    const result = await runCli(['--home', home, 'models', 'list']);
    expect(result.code).toBe(0);
    expect(result.stdoutLines[0]).toMatch(/^Tag\s+Module\s+Size\s+Creation Time$/);
    expect(result.stdoutLines[1]).toMatch(/^newer_service-model-1:[a-z2-7]{16}\s+bentoml\.pytorch\s+256\.\d\d KiB\s+/);
    expect(result.stdoutLines).toHaveLength(3);
  });

  it('reports an unknown name as BentoML does', async () => {
    const result = await runCli(['--home', home, 'list', 'nothing_here']);
    expect(result.code).toBe(1);
    expect(result.stderrLines).toEqual(["Error: [bentos] `list` failed: no Bentos with name 'nothing_here' found"]);
  });
});

describe('get', () => {
  it('prints bento.yaml, json, or the path; resolves prefixes and latest', async () => {
    const yaml = await runCli(['--home', home, 'get', 'sample_service:u432']);
    expect(yaml.code).toBe(0);
    expect(yaml.stdout).toBe(await readFile(path.join(sample.bentoPath, 'bento.yaml'), 'utf8'));
    const json = await runCli(['--home', home, 'get', 'sample_service', '-o', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'sample_service', version: 'u432a5xip2dc6ax4', spec: 2 });
    const where = await runCli(['--home', home, 'get', 'sample_service:latest', '-o', 'path']);
    expect(where.stdout).toBe(`${sample.bentoPath}\n`);
  });

  it('prints model.yaml for models get', async () => {
    const model = newer.models[0] as { tag: string; path: string };
    const result = await runCli(['--home', home, 'models', 'get', model.tag]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(await readFile(path.join(model.path, 'model.yaml'), 'utf8'));
  });
});

describe('delete', () => {
  it('asks on stdin even when it is not a terminal, and deletes nothing when stdin ends without an answer', async () => {
    const result = await runCli(['--home', home, 'delete', TAG]);
    expect(result.code).toBe(1);
    expect(result.stderrLines).toEqual([`delete bento ${TAG}? [y/N]: `, 'Error: [bentos] `delete` failed: Aborted! No answer on stdin; pass -y/--yes to delete without asking']);
    expect((await runCli(['--home', home, 'get', TAG, '-o', 'path'])).code).toBe(0);
  });

  it('reads piped answers, one line per item, as BentoML\'s prompt does (echo y | bentoport delete TAG)', async () => {
    const scratch = await makeScratchDir('cli-delete-piped');
    for (const [name, version] of [['first', 'v1'], ['second', 'v2'], ['third', 'v3']] as const) await writeSampleBento(scratch, { name, version, models: 0 });
    const result = await runCli(['--home', scratch, 'delete', 'first:v1,second:v2,third'], { input: 'y\nno\nyes\n' });
    expect(result.code).toBe(0);
    expect(result.stdoutLines).toEqual(['Bento(tag="first:v1") deleted.', 'Bento(tag="third:v3") deleted.']);
    expect(result.stderrLines).toEqual(['delete bento first:v1? [y/N]: y', 'delete bento second:v2? [y/N]: no', 'delete bento third:v3? [y/N]: yes']);
    expect((await runCli(['--home', scratch, 'list', '-o', 'json'])).stdout).toContain('second:v2');
  });

  it.each([
    ['delete', 'a:b:c', 'bento bundle', 'bento bundles', 'my_service:v1,my_service:v2,classifier'],
    ['delete', 'foo:', 'bento bundle', 'bento bundles', 'my_service:v1,my_service:v2,classifier'],
    ['models delete', '-bad-', 'model', 'models', 'my_model:v1,my_model:v2,classifier'],
  ])('%s %s: a malformed tag is a usage error with BentoML\'s message, and nothing is deleted', async (command, target, what, list, example) => {
    const result = await runCli(['--home', home, ...command.split(' '), `${TAG},${target}`, '-y']);
    expect(result.code).toBe(2);
    expect(result.stderrLines).toEqual([
      `Error: Bad formatting: "${target}". Please present a valid ${what} name or "name:version" tag. For list of ${list}, separate delete targets by ",", for example: "${example}". See 'bentoport ${command} --help'.`,
    ]);
    expect((await runCli(['--home', home, 'get', TAG, '-o', 'path'])).code).toBe(0);
  });

  it('refuses to delete a model a bento uses', async () => {
    const model = sample.models[0] as { tag: string };
    const result = await runCli(['--home', home, 'models', 'delete', model.tag, '-y']);
    expect(result.code).toBe(1);
    expect(result.stderrLines).toHaveLength(1);
    expect(result.stderrLines[0]).toContain(`Error: [models] \`delete\` failed: Model ${model.tag} is being used by the following bentos and can't be deleted: ${TAG}`);
  });

  it('splits targets like BentoML and deletes with -y', async () => {
    const scratch = await makeScratchDir('cli-delete');
    const a = await writeSampleBento(scratch, { name: 'first', version: 'v1', models: 0 });
    const b = await writeSampleBento(scratch, { name: 'second', version: 'v2', models: 0 });
    await writeSampleBento(scratch, { name: 'second', version: 'v3', models: 0, creationTime: '2025-02-01T00:00:00+00:00' });
    const result = await runCli(['--home', scratch, 'delete', `${a.bentoTag},`, ` ${b.bentoTag}`, '-y']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdoutLines).toEqual(['Bento(tag="first:v1") deleted.', 'Bento(tag="second:v2") deleted.']);
    const left = await runCli(['--home', scratch, 'list', '--json']);
    expect((JSON.parse(left.stdout) as { tag: string }[]).map((row) => row.tag)).toEqual(['second:v3']);
    // A bare name deletes every version; whitespace splits when there is no comma.
    const all = await runCli(['--home', scratch, 'delete', 'second', '--yes', '--json']);
    expect(JSON.parse(all.stdout)).toEqual({ deleted: ['second:v3'] });
  });
});

describe('--home and BENTOML_HOME', () => {
  it('uses BENTOML_HOME, and --home wins over it', async () => {
    const fromEnv = await runCli(['list', '--json'], { env: { BENTOML_HOME: home } });
    expect((JSON.parse(fromEnv.stdout) as unknown[]).length).toBe(2);
    const empty = await makeScratchDir('cli-empty');
    const fromFlag = await runCli(['list', '--json', '--home', empty], { env: { BENTOML_HOME: home } });
    expect(JSON.parse(fromFlag.stdout)).toEqual([]);
    const relative = await runCli(['--home', path.basename(home), 'list', '--json'], { cwd: path.dirname(home) });
    expect((JSON.parse(relative.stdout) as unknown[]).length).toBe(2);
  });
});
