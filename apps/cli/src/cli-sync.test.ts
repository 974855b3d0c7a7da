import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashTree, makeScratchDir, removeScratchDirs, writeSampleBento } from '@bentoport/test-utils';
import { runCli, startCli } from './cli-harness.js';

let root: string;
let home: string;
const models = [{ name: 'shared-model', version: 'v1aaaaaaaaaaaaaa', weightsBytes: 64 * 1024 }];

beforeAll(async () => {
  root = await makeScratchDir('cli-sync');
  home = path.join(root, 'home');
  await writeSampleBento(home, { name: 'svc_a', version: 'v1aaaaaaaaaaaaaa', models, sourceFiles: 3 });
  await writeSampleBento(home, { name: 'svc_b', version: 'v1bbbbbbbbbbbbbb', seed: 2, models, sourceFiles: 3, creationTime: '2025-06-01T00:00:00+00:00' });
});
afterAll(removeScratchDirs);

describe('sync, list URL, get URL/TAG and import URL --tag', () => {
  it('dry-runs, syncs a store to a folder once, and lists and gets from it', async () => {
    const store = path.join(root, 'release');
    const dry = await runCli(['--home', home, 'sync', 'local', store, '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout) as { dryRun: boolean; sent: Array<{ kind: string; tag: string; bytes: number }> };
    expect(plan.dryRun).toBe(true);
    expect(plan.sent.map((item) => `${item.kind} ${item.tag}`)).toEqual(['model shared-model:v1aaaaaaaaaaaaaa', 'bento svc_a:v1aaaaaaaaaaaaaa', 'bento svc_b:v1bbbbbbbbbbbbbb']);
    await expect(readdir(store)).rejects.toThrow();

    const first = await runCli(['--home', home, 'sync', 'local', store, '--progress', 'json']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^Sent 3 item\(s\) to .*release.*; 0 already there\.$/m);
    const bytesEvents = first.stderr.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>).filter((event) => event.type === 'bytes');
    // One line for the whole sync: it never goes back, across items in flight.
    const done = bytesEvents.map((event) => event.bytesDone as number);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    const lastBytes = bytesEvents.at(-1);
    expect(lastBytes).toMatchObject({ operation: 'sync', itemsDone: 3, itemsTotal: 3 });
    expect(lastBytes?.bytesDone).toBe(lastBytes?.bytesTotal);
    const again = await runCli(['--home', home, 'sync', 'local', store]);
    expect(again.stdout).toMatch(/^Sent 0 item\(s\) to .*; 3 already there\.$/m);

    const list = await runCli(['--home', home, 'list', store]);
    expect(list.code).toBe(0);
    expect(list.stdoutLines[0]).toMatch(/^Tag\s+Size\s+Model Size\s+Creation Time$/);
    expect(list.stdoutLines[1]).toMatch(/^svc_b:v1bbbbbbbbbbbbbb\s/);
    expect(list.stdoutLines).toHaveLength(3);
    const modelsJson = JSON.parse((await runCli(['--home', home, 'models', 'list', store, '-o', 'json'])).stdout) as Array<{ tag: string; module: string }>;
    expect(modelsJson).toEqual([expect.objectContaining({ tag: 'shared-model:v1aaaaaaaaaaaaaa', module: 'bentoml.pytorch' })]);
    const get = await runCli(['--home', home, 'get', `${store}/svc_a:latest`]);
    expect(get.stdout).toMatch(/^name: svc_a$/m);

    const other = path.join(root, 'other-home');
    const imported = await runCli(['--home', other, 'import', `${store}/`, '--tag', 'svc_b']);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/Sent model shared-model:v1aaaaaaaaaaaaaa/);
    expect(await hashTree(path.join(other, 'bentos', 'svc_b'))).toEqual(await hashTree(path.join(home, 'bentos', 'svc_b')));
  });

  it('asks before --delete removes anything, and removes nothing on no', async () => {
    const store = path.join(root, 'pruned');
    const extra = path.join(root, 'extra-home');
    await writeSampleBento(extra, { name: 'svc_gone', version: 'v1cccccccccccccc', seed: 3, models, sourceFiles: 3 });
    expect((await runCli(['--home', extra, 'sync', 'local', store])).code).toBe(0);
    const refused = await runCli(['--home', home, 'sync', 'local', store, '--delete'], { input: 'n\n' });
    expect(refused.code).toBe(0);
    expect(refused.stderr).toMatch(/remove 1 item\(s\) from .* \(bento svc_gone:v1cccccccccccccc\)\?/);
    expect((await runCli(['--home', home, 'list', store])).stdout).toMatch(/svc_gone/);
    const unanswered = await runCli(['--home', home, 'sync', 'local', store, '--delete']);
    expect(unanswered.code).toBe(2);
    expect(unanswered.stderr).toMatch(/--delete needs a confirmation/);
    const removed = await runCli(['--home', home, 'sync', 'local', store, '--delete', '-y']);
    expect(removed.stdout).toMatch(/^Removed bento svc_gone:v1cccccccccccccc$/m);
    expect((await runCli(['--home', home, 'list', store])).stdout).not.toMatch(/svc_gone/);
  });

  it('refuses a bad --concurrency and a sync into itself', async () => {
    const bad = await runCli(['--home', home, 'sync', 'local', path.join(root, 'x'), '--concurrency', '0']);
    expect(bad.code).toBe(2);
    const itself = await runCli(['--home', home, 'sync', path.join(root, 'same'), path.join(root, 'same')]);
    expect(itself.code).toBe(1);
    expect(itself.stderr).toMatch(/into itself/);
  });
});

/** Files under a directory, relative. */
async function filesUnder(directory: string): Promise<string[]> {
  return (await readdir(directory, { recursive: true }).catch(() => [] as string[])).map(String);
}

describe('a sync killed half-way', () => {
  it('reruns to completion without re-sending what arrived verified, and leaves no temporary file', async () => {
    const killedHome = path.join(root, 'killed-home');
    for (let index = 0; index < 4; index++) {
      const ownModel = [{ name: `model-${index}`, version: 'v1aaaaaaaaaaaaaa', weightsBytes: 2 * 1024 * 1024 }];
      await writeSampleBento(killedHome, { name: `svc_${index}`, version: 'v1aaaaaaaaaaaaaa', seed: 10 + index, models: ownModel, sourceFiles: 3 });
    }
    const store = path.join(root, 'killed');
    const started = startCli(['--home', killedHome, 'sync', 'local', store, '--concurrency', '1']);
    // Kill it once the first item has arrived (its .sha256 is there), while the others are still to come.
    for (let waited = 0; waited < 600 && !(await filesUnder(store)).some((file) => file.endsWith('.sha256')); waited++) await sleep(50);
    started.child.kill('SIGKILL');
    const killed = await started.result;
    expect(killed.signal).toBe('SIGKILL');
    const arrived = (await filesUnder(store)).filter((file) => file.endsWith('.sha256')).length;
    expect(arrived).toBeGreaterThan(0);
    expect(arrived).toBeLessThan(8);

    const rerun = await runCli(['--home', killedHome, 'sync', 'local', store, '--json']);
    expect(rerun.code).toBe(0);
    const result = JSON.parse(rerun.stdout) as { sent: unknown[]; present: string[] };
    expect(result.present.length).toBe(arrived);
    expect(result.sent.length + result.present.length).toBe(8);
    expect((await filesUnder(store)).filter((file) => file.includes('.tmp'))).toEqual([]);
    const copy = path.join(root, 'killed-copy');
    await runCli(['--home', copy, 'sync', store, 'local']);
    expect(await hashTree(path.join(copy, 'models'))).toEqual(await hashTree(path.join(killedHome, 'models')));
  });
});
