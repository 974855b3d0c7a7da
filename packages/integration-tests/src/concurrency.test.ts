import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashTree, writeSampleBento } from '@bentoport/test-utils';
import { describe, expect, it } from 'vitest';
import { bentoportAt, listTree, scratch } from './harness.js';

const WORKER = fileURLToPath(new URL('../fixtures/import-worker.mjs', import.meta.url));

function runWorker(home: string, archive: string, mode = 'plain'): Promise<{ status: number | null; signal: string | null; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [WORKER, home, archive, mode], { timeout: 60_000 }, (error, stdout) => {
      resolve({ status: child.exitCode, signal: child.signalCode, output: stdout });
      void error;
    });
  });
}

describe('concurrent imports of one tag', () => {
  it('exactly one of several processes wins; the others get ERR_ALREADY_EXISTS', async () => {
    const { root, homeA, homeB } = await scratch('race');
    const sample = await writeSampleBento(homeA, { models: 2, weightsBytes: 2 * 1024 * 1024 });
    const archive = path.join(root, 'x.tar');
    await bentoportAt(homeA).exportBento(sample.bentoTag, archive);
    const results = await Promise.all([1, 2, 3, 4].map(() => runWorker(homeB, archive)));
    const outcomes = results.map((result) => JSON.parse(result.output.trim()) as { ok: boolean; code?: string });
    expect(outcomes.filter((outcome) => outcome.ok).length).toBe(1);
    expect(outcomes.filter((outcome) => !outcome.ok).map((outcome) => outcome.code)).toEqual([
      'ERR_ALREADY_EXISTS',
      'ERR_ALREADY_EXISTS',
      'ERR_ALREADY_EXISTS',
    ]);
    const [name, version] = sample.bentoTag.split(':') as [string, string];
    expect(await hashTree(path.join(homeB, 'bentos', name, version))).toEqual(await hashTree(sample.bentoPath));
    expect((await readdir(path.join(homeB, 'bentos', name))).sort()).toEqual(['latest', version].sort());
    expect((await listTree(path.join(homeB, 'tmp'))).filter((entry) => entry.startsWith('bentoport-staging'))).toEqual([]);
  });
});

describe('a process killed mid-import', () => {
  it('leaves no partial version; models that entered are whole and reused by the retry; staging is swept', async () => {
    const { root, homeA, homeB } = await scratch('killed');
    const sample = await writeSampleBento(homeA, { models: 2, weightsBytes: 1024 * 1024 });
    const archive = path.join(root, 'x.tar.gz');
    await bentoportAt(homeA).exportBento(sample.bentoTag, archive);
    const killed = await runWorker(homeB, archive, 'kill-after-first-model');
    expect(killed.signal).toBe('SIGKILL');
    const [name] = sample.bentoTag.split(':') as [string, string];
    await expect(stat(path.join(homeB, 'bentos', name))).rejects.toThrow();
    const entered = await readdir(path.join(homeB, 'models'));
    expect(entered.length).toBe(1);
    const model = sample.models.find((candidate) => candidate.tag.startsWith(`${entered[0]}:`)) as { tag: string; path: string };
    const [modelName, modelVersion] = model.tag.split(':') as [string, string];
    expect(await hashTree(path.join(homeB, 'models', modelName, modelVersion))).toEqual(await hashTree(model.path));
    expect(await readFile(path.join(homeB, 'models', modelName, 'latest'), 'utf8')).toBe(modelVersion);
    const leftovers = (await readdir(path.join(homeB, 'tmp'))).filter((entry) => entry.startsWith('bentoport-staging'));
    expect(leftovers.length).toBe(1);

    const retry = await bentoportAt(homeB).importBento(archive);
    expect(retry.modelsSkipped).toEqual([model.tag]);
    expect(retry.modelsImported.length).toBe(1);
    expect((await readdir(path.join(homeB, 'tmp'))).filter((entry) => entry.startsWith('bentoport-staging'))).toEqual([]);
    expect(await hashTree(retry.item.path)).toEqual(await hashTree(sample.bentoPath));
  });
});

describe('a store on another file system (EXDEV)', () => {
  it('stages beside the store instead of in $BENTOML_HOME/tmp, and cleans up', async () => {
    const shm = '/dev/shm';
    const usable = await stat(shm).then((info) => info.isDirectory()).catch(() => false);
    const { root, homeA, homeB } = await scratch('exdev');
    const otherFs = usable ? await import('node:fs/promises').then((fs) => fs.mkdtemp(path.join(shm, 'bentoport-'))) : undefined;
    try {
      if (!otherFs || (await stat(otherFs)).dev === (await stat(root)).dev) {
        console.warn('skipping EXDEV test: no second file system available');
        return;
      }
      const sample = await writeSampleBento(homeA, { models: 1 });
      const archive = path.join(root, 'x.tar');
      await bentoportAt(homeA).exportBento(sample.bentoTag, archive);
      await mkdir(homeB, { recursive: true });
      await symlink(otherFs, path.join(homeB, 'bentos'));
      const imported = await bentoportAt(homeB).importBento(archive);
      expect(await hashTree(imported.item.path)).toEqual(await hashTree(sample.bentoPath));
      expect(await readdir(otherFs)).toEqual([sample.bentoTag.split(':')[0]]);
    } finally {
      // Outside the run's TMPDIR, so nobody else removes it: every run used to leave one behind.
      if (otherFs) await rm(otherFs, { recursive: true, force: true });
    }
  });
});
