import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashTree, makeScratchDir, removeScratchDirs, writeSampleBento, type SampleBento } from '@bentoport/test-utils';
import { runCli } from './cli-harness.js';

let home: string;
let sample: SampleBento;
let archive: string;

/** Every path under `directory` (hidden ones too: staging, locks, temp files) and every file's hash. */
async function snapshot(directory: string): Promise<{ paths: string[]; hashes: unknown }> {
  const paths = (await readdir(directory, { recursive: true }).catch(() => [] as string[])).sort();
  return { paths, hashes: paths.length === 0 ? {} : await hashTree(directory) };
}

beforeAll(async () => {
  home = await makeScratchDir('cli-dry-run');
  sample = await writeSampleBento(home, { name: 'dry', models: 2 });
  const out = await makeScratchDir('cli-dry-run-archive');
  archive = path.join(out, 'dry.tar.gz');
  expect((await runCli(['--home', home, '-q', 'export', sample.bentoTag, archive])).code).toBe(0);
});
afterAll(removeScratchDirs);

describe('--dry-run changes nothing and says what would happen', () => {
  it('export: names the destination, format, size and models; writes no file, not even a temporary one', async () => {
    const out = await makeScratchDir('cli-dry-run-export');
    const before = await snapshot(home);
    const run = await runCli(['--home', home, 'export', 'dry:latest', path.join(out, 'x.tar.gz'), '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.stdoutLines[0]).toMatch(new RegExp(`^Would export Bento\\(tag="${sample.bentoTag}"\\) to ${out}/x\\.tar\\.gz as gz: [\\d.]+ KiB \\(\\d+ bytes\\) of files before compression, with its 2 models `));
    expect(run.stdoutLines.at(-1)).toBe('Nothing was written (dry run).');
    expect(await readdir(out)).toEqual([]);
    expect(await snapshot(home)).toEqual(before);

    const json = await runCli(['--home', home, '--json', 'export', 'dry:latest', archive, '--dry-run']);
    expect(JSON.parse(json.stdout)).toMatchObject({ dryRun: true, tag: sample.bentoTag, destination: archive, format: 'gz', replaces: true, models: sample.models.map((model) => model.tag) });
  });

  it('import: reads the format and size; the store is not touched (no staging directory, no sweep)', async () => {
    const target = await makeScratchDir('cli-dry-run-import');
    const run = await runCli(['--home', target, 'import', archive, '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.stdoutLines).toEqual([expect.stringMatching(new RegExp(`^Would import ${archive} \\(gz, [\\d.]+ KiB \\(\\d+ bytes\\)\\) into the bento store ${target}/bentos\\.$`)), 'Nothing was written (dry run).']);
    expect(await readdir(target)).toEqual([]);
    const json = await runCli(['--home', target, '--json', 'models', 'import', archive, '--dry-run']);
    expect(JSON.parse(json.stdout)).toMatchObject({ dryRun: true, kind: 'model', source: archive, format: 'gz' });
    expect(await readdir(target)).toEqual([]);
  });

  it('delete: lists what would go, asks nothing, deletes nothing; a model in use fails as the deletion would', async () => {
    const before = await snapshot(home);
    const run = await runCli(['--home', home, 'delete', 'dry', '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.stdoutLines).toEqual([expect.stringMatching(new RegExp(`^Would delete Bento\\(tag="${sample.bentoTag}"\\): [\\d.]+ KiB \\(\\d+ bytes\\) at ${home}/bentos/dry/`)), 'Nothing was deleted (dry run).']);
    const json = await runCli(['--home', home, '--json', 'delete', sample.bentoTag, '--dry-run']);
    expect(JSON.parse(json.stdout)).toMatchObject({ dryRun: true, items: [{ tag: sample.bentoTag, kind: 'bento' }] });
    const inUse = await runCli(['--home', home, 'models', 'delete', sample.models[0]?.tag as string, '--dry-run']);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toContain('is being used by the following bentos');
    expect(await snapshot(home)).toEqual(before);
  });

  it('refuses --dry-run with the archive on stdout, whose report would mix with it', async () => {
    const run = await runCli(['--home', home, 'export', 'dry:latest', '-', '--dry-run']);
    expect(run.code).toBe(2);
  });
});
