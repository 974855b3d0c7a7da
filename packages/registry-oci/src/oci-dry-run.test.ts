/**
 * `push --dry-run` and `pull --dry-run` through the built CLI against CNCF distribution: what
 * would be sent or fetched, with the models the registry already holds, and nothing changed:
 * no repository, no upload session in the registry's storage, no store change.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { hashTree, makeScratchDir, removeScratchDirs, writeSampleBento } from '@bentoport/test-utils';
import { afterAll, describe, expect, inject, it } from 'vitest';

const run = promisify(execFile);
const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../apps/cli/dist/cli.js');
const servers = inject('oci');
const ready = servers.skip === undefined && existsSync(cli);

afterAll(() => removeScratchDirs());

async function bentoport(home: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const scratch = await makeScratchDir('oci-dry-run-env');
  return run(process.execPath, [cli, '--home', home, ...args], {
    env: { ...process.env, BENTOPORT_REGISTRY: '', XDG_CONFIG_HOME: scratch, XDG_CACHE_HOME: scratch, DOCKER_CONFIG: scratch, HTTP_PROXY: '', HTTPS_PROXY: '', NO_COLOR: '1' },
  });
}

/** Everything the registry stores under `prefix`: repositories, layer links, upload sessions. */
async function registryFiles(prefix: string): Promise<string[]> {
  const repositories = path.join(servers.openData, 'docker', 'registry', 'v2', 'repositories', prefix);
  return (await readdir(repositories, { recursive: true }).catch(() => [] as string[])).sort();
}

async function storeSnapshot(home: string): Promise<{ paths: string[]; hashes: unknown }> {
  return { paths: (await readdir(home, { recursive: true })).sort(), hashes: await hashTree(home) };
}

describe.skipIf(!ready)('push and pull --dry-run', () => {
  it('push: lists each item with its size, marks the models the registry has, sends nothing', async () => {
    const home = await makeScratchDir('oci-dry-run-push');
    const sample = await writeSampleBento(home, { name: 'planned', models: 2 });
    const prefix = `dryrun${process.pid}`;
    const registry = `oci://127.0.0.1:${servers.openPort}/${prefix}`;
    const [first, second] = sample.models.map((model) => model.tag) as [string, string];
    await bentoport(home, '-q', 'models', 'push', first, '--registry', registry);
    const registryBefore = await registryFiles(prefix);
    const storeBefore = await storeSnapshot(home);

    const human = await bentoport(home, 'push', 'planned:latest', '--registry', registry, '--dry-run');
    expect(human.stdout.split('\n')).toEqual([
      `Would push to ${registry}:`,
      expect.stringMatching(new RegExp(`^  model ${first} +already there, not sent$`)),
      expect.stringMatching(new RegExp(`^  model ${second} +[\\d.]+ KiB \\(\\d+ bytes\\) to send$`)),
      expect.stringMatching(new RegExp(`^  bento ${sample.bentoTag} +[\\d.]+ KiB \\(\\d+ bytes\\) to send$`)),
      expect.stringMatching(/^[\d.]+ KiB \(\d+ bytes\) to send in all\. Nothing was sent \(dry run\)\.$/),
      '',
    ]);
    const plan = JSON.parse((await bentoport(home, '--json', 'push', 'planned:latest', '--registry', registry, '--dry-run')).stdout) as { items: Array<{ tag: string; present: boolean; bytes: number }>; bytesToSend: number };
    expect(plan.items.map((item) => [item.tag, item.present])).toEqual([[first, true], [second, false], [sample.bentoTag, false]]);
    expect(plan.bytesToSend).toBe((plan.items[1]?.bytes ?? 0) + (plan.items[2]?.bytes ?? 0));

    expect(await registryFiles(prefix)).toEqual(registryBefore);
    expect(await storeSnapshot(home)).toEqual(storeBefore);
  });

  it('pull: says what would be fetched, and which models a local bento lacks; the store is not touched', async () => {
    const source = await makeScratchDir('oci-dry-run-pull-src');
    const sample = await writeSampleBento(source, { name: 'fetched', models: 1 });
    const prefix = `dryrunpull${process.pid}`;
    const registry = `oci://127.0.0.1:${servers.openPort}/${prefix}`;
    await bentoport(source, '-q', 'push', 'fetched:latest', '--registry', registry);
    const target = await makeScratchDir('oci-dry-run-pull-dst');
    const human = await bentoport(target, 'pull', sample.bentoTag, '--registry', registry, '--dry-run');
    expect(human.stdout).toMatch(new RegExp(`^Would pull Bento\\(tag="${sample.bentoTag}"\\) from ${registry} \\([\\d.]+ KiB \\(\\d+ bytes\\)\\)\\.\nNothing was downloaded \\(dry run\\)\\.\n$`));
    expect(await readdir(target)).toEqual([]);
    const missing = JSON.parse((await bentoport(target, '--json', 'pull', 'fetched:v0', '--registry', registry, '--dry-run')).stdout) as { remote: boolean };
    expect(missing.remote).toBe(false);

    // A local bento without its model: only the model would come.
    await bentoport(target, '-q', 'pull', sample.bentoTag, '--registry', registry, '--without-models');
    const before = await storeSnapshot(target);
    const plan = JSON.parse((await bentoport(target, '--json', 'pull', sample.bentoTag, '--registry', registry, '--dry-run')).stdout) as Record<string, unknown>;
    expect(plan).toMatchObject({ dryRun: true, local: true, downloads: false, models: [{ tag: sample.models[0]?.tag, local: false, remote: true, bytes: expect.any(Number) }] });
    expect(await storeSnapshot(target)).toEqual(before);
  });
});
