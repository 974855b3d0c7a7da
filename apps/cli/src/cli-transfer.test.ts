import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffTrees, hashTree, hasPython, makeScratchDir, python, removeScratchDirs, writeSampleBento, type SampleBento } from '@bentoport/test-utils';
import { runCli } from './cli-harness.js';

let homeA: string;
let sample: SampleBento;
const TAG = 'sample_service:u432a5xip2dc6ax4';
const withPython = hasPython();

beforeAll(async () => {
  homeA = await makeScratchDir('cli-a');
  sample = await writeSampleBento(homeA, { models: 2, weightsBytes: 128 * 1024 });
});
afterAll(removeScratchDirs);

/** Zip stores what a symlink points to, as BentoML's zip writer does: expect the target's file there. */
function dereferenced(tree: Map<string, string>): Map<string, string> {
  const result = new Map(tree);
  for (const [key, value] of tree) {
    if (value.startsWith('link:')) result.set(key, tree.get(path.posix.join(path.posix.dirname(key), value.slice(5))) ?? value);
  }
  return result;
}

/** The imported bento and every model hash-equal to the originals in store A. */
async function expectSameAsSample(home: string, format?: string): Promise<void> {
  const original = await hashTree(sample.bentoPath);
  const expected = format === 'zip' ? dereferenced(original) : original;
  expect(diffTrees(expected, await hashTree(path.join(home, 'bentos', 'sample_service', 'u432a5xip2dc6ax4')))).toEqual([]);
  for (const model of sample.models) {
    const [name, version] = model.tag.split(':') as [string, string];
    expect(diffTrees(await hashTree(model.path), await hashTree(path.join(home, 'models', name, version)))).toEqual([]);
  }
}

const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

describe.each([
  { extension: 'tar', format: 'tar' },
  { extension: 'tar.gz', format: 'gz' },
  { extension: 'zip', format: 'zip' },
])('export/import round trip: $extension', ({ extension, format }) => {
  it('exports with BentoML-style output and imports into a fresh store, trees equal', async () => {
    const scratch = await makeScratchDir('cli-out');
    const archive = path.join(scratch, `sample.${extension}`);
    const exported = await runCli(['--home', homeA, 'export', TAG, archive]);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    expect(exported.stdoutLines[0]).toBe(`Bento(tag="${TAG}") exported to ${archive}.`);
    const digest = await sha256(archive);
    expect(exported.stdoutLines.at(-1)).toMatch(new RegExp(`^\\d+\\.\\d{2} (B|KiB|MiB) \\(${(await stat(archive)).size} bytes\\), sha256 ${digest}$`));

    const homeB = await makeScratchDir('cli-b');
    const imported = await runCli(['--home', homeB, 'import', archive]);
    // Core's notices about the embedded models go to stderr.
    expect(imported.stderr).not.toMatch(/Error/);
    expect(imported.code).toBe(0);
    expect(imported.stdoutLines[0]).toBe(`Bento(tag="${TAG}") imported.`);
    expect(imported.stdoutLines).toHaveLength(2);
    await expectSameAsSample(homeB, format);

    const again = await runCli(['--home', homeB, 'import', archive]);
    expect(again.code).toBe(1);
    expect(again.stderrLines).toHaveLength(1);
    expect(again.stderrLines[0]).toMatch(/^Error: \[bentos\] `import` failed: Item 'sample_service:u432a5xip2dc6ax4' already exists in the store /);
  });

  it.skipIf(!withPython)('writes an archive Python reads with the models embedded at the root', async () => {
    const scratch = await makeScratchDir('cli-py');
    const archive = path.join(scratch, `sample.${extension}`);
    expect((await runCli(['--home', homeA, 'export', TAG, archive, '--format', format])).code).toBe(0);
    const script =
      extension === 'zip'
        ? 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))'
        : 'import sys, tarfile; print("\\n".join(tarfile.open(sys.argv[1]).getnames()))';
    const names = (await python(script, [archive])).split('\n').map((name) => name.replace(/^\.\//, ''));
    expect(names).toContain('bento.yaml');
    expect(names).toContain('src/bentofile.yaml');
    for (const model of sample.models) expect(names).toContain(`models/${model.tag.replace(':', '/')}/model.yaml`);
  });
});

describe('streams', () => {
  it.each(['gz', 'tar', 'zip'])('exports to stdout with - and imports from stdin with - (%s)', async (format) => {
    const exported = await runCli(['--home', homeA, 'export', TAG, '-', '--format', format]);
    expect(exported.code).toBe(0);
    expect(exported.stdoutBytes.length).toBeGreaterThan(1000);
    if (format === 'gz') expect([...exported.stdoutBytes.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    if (format === 'zip') expect(exported.stdoutBytes.subarray(0, 4).toString('latin1')).toBe('PK\u0003\u0004');
    // The report moves to stderr, since stdout carries the archive.
    expect(exported.stderrLines[0]).toMatch(/^Bento\(tag="sample_service:u432a5xip2dc6ax4"\) exported to .+\.$/);
    expect(exported.stderrLines.at(-1)).toContain(`sha256 ${createHash('sha256').update(exported.stdoutBytes).digest('hex')}`);

    const homeC = await makeScratchDir('cli-c');
    const imported = await runCli(['--home', homeC, 'import', '-'], { input: exported.stdoutBytes });
    expect(imported.stderr).not.toMatch(/Error/);
    expect(imported.code).toBe(0);
    expect(imported.stdoutLines[0]).toBe(`Bento(tag="${TAG}") imported.`);
    await expectSameAsSample(homeC, format);
  });

  it('refuses --json when the archive goes to stdout', async () => {
    const result = await runCli(['--home', homeA, 'export', TAG, '-', '--json']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderrLines).toHaveLength(1);
  });
});

describe('--json, --quiet, defaults', () => {
  it('prints the ExportResult and ImportResult as one JSON document', async () => {
    const scratch = await makeScratchDir('cli-json');
    const archive = path.join(scratch, 'sample.tar.gz');
    const exported = await runCli(['--home', homeA, 'export', TAG, archive, '--json', '--checksum-file']);
    expect(exported.code).toBe(0);
    const result = JSON.parse(exported.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ tag: TAG, destination: archive, format: 'gz', sha256: await sha256(archive), size: (await stat(archive)).size });
    expect(result.checksumFile).toBe(`${archive}.sha256`);
    expect((await readFile(`${archive}.sha256`, 'utf8')).split(/\s+/)[0]).toBe(result.sha256);

    const homeB = await makeScratchDir('cli-json-b');
    const imported = await runCli(['--home', homeB, 'import', archive, '--json']);
    expect(imported.code).toBe(0);
    const importResult = JSON.parse(imported.stdout) as Record<string, unknown>;
    expect(importResult).toMatchObject({
      tag: TAG,
      kind: 'bento',
      path: path.join(homeB, 'bentos', 'sample_service', 'u432a5xip2dc6ax4'),
      format: 'gz',
      sha256: result.sha256,
      size: result.size,
      verifiedAgainst: 'checksum-file',
      modelsSkipped: [],
    });
    expect([...(importResult.modelsImported as string[])].sort()).toEqual(sample.models.map((model) => model.tag).sort());
  });

  it('checks --sha256 and imports nothing on a mismatch', async () => {
    const scratch = await makeScratchDir('cli-sha');
    const archive = path.join(scratch, 'sample.tar');
    expect((await runCli(['--home', homeA, 'export', TAG, archive])).code).toBe(0);
    const homeB = await makeScratchDir('cli-sha-b');
    const wrong = await runCli(['--home', homeB, 'import', archive, '--sha256', '0'.repeat(64)]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderrLines).toHaveLength(1);
    expect(wrong.stderrLines[0]).toMatch(/^Error: \[bentos\] `import` failed: /);
    expect(await readdir(path.join(homeB, 'bentos')).catch(() => [])).toEqual([]);
    const right = await runCli(['--home', homeB, 'import', archive, '--sha256', await sha256(archive)]);
    expect(right.code).toBe(0);
    expect(right.stdoutLines.at(-1)).toContain('(verified against --sha256)');
  });

  it('--quiet prints nothing', async () => {
    const scratch = await makeScratchDir('cli-quiet');
    const result = await runCli(['--home', homeA, '-q', 'export', TAG, path.join(scratch, 'q.tar')]);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it('exports into the current directory by default, named <name>-<version>.<format>', async () => {
    const scratch = await makeScratchDir('cli-cwd');
    const result = await runCli(['--home', homeA, 'export', TAG, '--format', 'gz'], { cwd: scratch });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const files = await readdir(scratch);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^sample_service-u432a5xip2dc6ax4\.(gz|tar\.gz)$/);
    expect(result.stdoutLines[0]).toBe(`Bento(tag="${TAG}") exported to ${path.join(scratch, files[0] as string)}.`);
  });

  it('exports with no format to DIR/ as BentoML does: <name>-<version>.bento (tar+xz)', async () => {
    const scratch = await makeScratchDir('cli-native');
    await mkdir(path.join(scratch, 'out'));
    const result = await runCli(['--home', homeA, 'export', 'sample_service:latest', './out/'], { cwd: scratch });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await readdir(path.join(scratch, 'out'))).toEqual(['sample_service-u432a5xip2dc6ax4.bento']);
    const head = (await readFile(path.join(scratch, 'out', 'sample_service-u432a5xip2dc6ax4.bento'))).subarray(0, 6);
    expect([...head]).toEqual([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
  });

  it('exports and imports a model alone', async () => {
    const scratch = await makeScratchDir('cli-model');
    const model = sample.models[0] as { tag: string; path: string };
    const archive = path.join(scratch, 'model.zip');
    const exported = await runCli(['--home', homeA, 'models', 'export', model.tag, archive]);
    expect(exported.code).toBe(0);
    expect(exported.stdoutLines[0]).toBe(`Model(tag="${model.tag}") exported to ${archive}.`);
    const homeB = await makeScratchDir('cli-model-b');
    const imported = await runCli(['--home', homeB, 'models', 'import', archive]);
    expect(imported.code).toBe(0);
    expect(imported.stdoutLines[0]).toBe(`Model(tag="${model.tag}") imported.`);
    const [name, version] = model.tag.split(':') as [string, string];
    expect(diffTrees(await hashTree(model.path), await hashTree(path.join(homeB, 'models', name, version)))).toEqual([]);
  });
});
