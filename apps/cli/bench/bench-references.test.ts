import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referencesFor, type ReferencePaths } from './bench-references.js';
import type { BenchFormat } from './bench-settings.js';

const run = promisify(execFile);
const installed = (name: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`]);
    return true;
  } catch {
    return false;
  }
};
const hasPigz = installed('pigz');

// The references run for real on a tiny tree: a pipe that drops a stage or hashes nothing would
// time a shorter job, so each export must write an archive that its format's import references
// extract back to the same files, and a broken archive must fail the run.
describe.each<[BenchFormat, string[]]>([
  ['tar', ['tar']],
  ['gz', ['tar', 'gzip']],
  ['zip', ['zip', 'unzip']],
  ['bento', ['tar', 'xz']],
  ['bz2', ['tar', 'bzip2']],
])('references of %s', (format, tools) => {
  // As the test servers: a missing tool skips these tests, and fails them under CI=true (.ci/run installs them).
  const ci = process.env.CI === 'true';
  const missing = [...tools, ...(format === 'gz' && ci ? ['pigz'] : []), 'python3', 'sha256sum', 'bash'].filter((tool) => !installed(tool));
  const skip = missing.length > 0 && !ci;
  const requireTools = () => expect(missing, `apt-get install -y ${missing.join(' ')}`).toEqual([]);
  let scratch: string;
  let paths: ReferencePaths;

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'bench-references-'));
    const tree = path.join(scratch, 'tree');
    await mkdir(path.join(tree, 'src', 'deep'), { recursive: true });
    await writeFile(path.join(tree, 'bento.yaml'), 'name: sample\n');
    await writeFile(path.join(tree, 'src', 'deep', 'module.py'), 'print("hello")\n'.repeat(200));
    paths = { tree, output: path.join(scratch, 'out'), archive: '', extractInto: path.join(scratch, 'extract') };
  });
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  const references = referencesFor(format, hasPigz);

  it.skipIf(skip).each(references.filter((reference) => reference.operation === 'export').map((reference) => [reference.tool, reference] as const))(
    'export %s writes an archive every import reference extracts',
    async (_tool, reference) => {
      requireTools();
      await run(reference.command(paths)[0] as string, reference.command(paths).slice(1), { cwd: scratch });
      const archive = reference.outputFile?.(paths) as string;
      expect((await stat(archive)).size).toBeGreaterThan(0);
      for (const importer of references.filter((candidate) => candidate.operation === 'import')) {
        const importPaths = { ...paths, archive, extractInto: path.join(scratch, `extract-${importer.tool.replace(/\W+/g, '-')}`) };
        const [command, ...args] = importer.command(importPaths) as [string, ...string[]];
        await run(command, args, { cwd: scratch });
        expect(await readFile(path.join(importPaths.extractInto, 'src', 'deep', 'module.py'), 'utf8')).toBe('print("hello")\n'.repeat(200));
        await rm(importPaths.extractInto, { recursive: true, force: true });
      }
      await rm(archive, { force: true });
    },
  );

  it.skipIf(skip).each(references.filter((reference) => reference.operation === 'import').map((reference) => [reference.tool, reference] as const))(
    'import %s fails on a broken archive',
    async (_tool, reference) => {
      requireTools();
      const archive = path.join(scratch, 'broken');
      await writeFile(archive, 'not an archive at all\n'.repeat(100));
      const [command, ...args] = reference.command({ ...paths, archive }) as [string, ...string[]];
      await expect(run(command, args, { cwd: scratch })).rejects.toThrow();
    },
  );
});
