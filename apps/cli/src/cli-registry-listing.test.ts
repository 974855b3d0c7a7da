import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeScratchDir, removeScratchDirs, writeSampleBento } from '@bentoport/test-utils';
import { runCli, type CliRunOptions } from './cli-harness.js';
import { OCI_REGISTRY_SKIP, requireRegistry, startTestOciRegistry, type TestOciRegistry } from './cli-oci-registry.js';

let home: string;
let registry: TestOciRegistry | undefined;
let options: CliRunOptions;
let host = '';

/** Two bentos sharing one model, pushed to `team`; the local list of the same store, to compare columns with. */
beforeAll(async () => {
  if (OCI_REGISTRY_SKIP !== undefined) return;
  home = await makeScratchDir('cli-registry-listing');
  const shared = [{ name: 'shared-weights', version: 'w1', weightsBytes: 64 * 1024 }];
  await writeSampleBento(home, { name: 'alpha', version: 'a1', models: shared, sourceFiles: 4 });
  await writeSampleBento(home, { name: 'beta', version: 'b1', models: shared, sourceFiles: 4, creationTime: '2025-03-04T05:06:07.000001+00:00' });
  registry = await startTestOciRegistry();
  host = requireRegistry(registry).host;
  const scratch = await makeScratchDir('cli-registry-listing-env');
  options = { env: { XDG_CONFIG_HOME: scratch, XDG_CACHE_HOME: scratch, BENTOPORT_STATE_DIR: scratch, HOME: scratch } };
  for (const tag of ['alpha:a1', 'beta:b1']) expect((await runCli(['--home', home, 'push', tag, '--registry', `oci://${host}/team`], options)).code).toBe(0);
});
afterAll(async () => {
  await registry?.stop();
  await removeScratchDirs();
});

describe.skipIf(OCI_REGISTRY_SKIP !== undefined)('list REGISTRY and get REGISTRY/TAG', () => {
  it('lists the registry in the local list\'s columns, newest first, with the model sizes the registry stores', async () => {
    const remote = await runCli(['--home', home, 'list', `oci://${host}/team`], options);
    expect(remote.code, remote.stderr).toBe(0);
    expect(remote.stdoutLines[0]).toMatch(/^Tag\s+Size\s+Model Size\s+Creation Time$/);
    expect(remote.stdoutLines.slice(1).map((line) => line.split(/\s{2,}/)[0])).toEqual(['beta:b1', 'alpha:a1']);

    const json = JSON.parse((await runCli(['--home', home, 'list', `${host}/team`, '-o', 'json'], options)).stdout) as Array<Record<string, unknown>>;
    const local = JSON.parse((await runCli(['--home', home, 'list', '-o', 'json'], options)).stdout) as Array<Record<string, unknown>>;
    expect(json.map((row) => row.tag)).toEqual(local.map((row) => row.tag));
    for (const row of json) {
      expect(Object.keys(row).sort()).toEqual(['creation_time', 'digest', 'model_size', 'model_size_bytes', 'registry', 'size', 'size_bytes', 'tag']);
      expect(row.creation_time).toBe(local.find((other) => other.tag === row.tag)?.creation_time);
      expect(row.registry).toBe(`oci://${host}/team`);
      // The layer is a gzip of the bento without models; the model layer an uncompressed tar of the model directory.
      expect(row.model_size_bytes).toBeGreaterThan(local.find((other) => other.tag === row.tag)?.model_size_bytes as number);
    }

    const yaml = await runCli(['--home', home, 'models', 'list', `oci://${host}/team`, 'shared-weights', '-o', 'yaml'], options);
    expect(yaml.stdout).toMatch(/^- creation_time: .+\n {2}digest: sha256:[0-9a-f]{64}\n {2}module: bentoml\.pytorch\n/);
  });

  it('gets one item as the local get does: the bento.yaml document, json, or its address', async () => {
    const yaml = await runCli(['--home', home, 'get', `oci://${host}/team/alpha`], options);
    expect(yaml.code, yaml.stderr).toBe(0);
    expect(yaml.stdout).toMatch(/^service: /m);
    expect(yaml.stdout).toMatch(/^version: a1$/m);
    const json = JSON.parse((await runCli(['--home', home, 'get', `${host}/team/beta:b`, '-o', 'json'], options)).stdout) as Record<string, unknown>;
    const local = JSON.parse((await runCli(['--home', home, 'get', 'beta:b1', '-o', 'json'], options)).stdout) as Record<string, unknown>;
    expect(json).toEqual(local);
    expect((await runCli(['--home', home, 'get', `oci://${host}/team/beta:b1`, '-o', 'path'], options)).stdout).toBe(`oci://${host}/team/beta:b1\n`);
  });

  it('says what is missing in the local list\'s words, and refuses a second argument without a registry', async () => {
    const missing = await runCli(['--home', home, 'list', `oci://${host}/team`, 'gamma'], options);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(`no Bentos with name 'gamma' found in oci://${host}/team`);
    const notThere = await runCli(['--home', home, 'get', `oci://${host}/team/alpha:zz`], options);
    expect(notThere.stderr).toContain(`Bento 'alpha:zz' is not found in oci://${host}/team`);
    const extra = await runCli(['--home', home, 'list', 'alpha', 'beta'], options);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toMatch(/'list' got an unexpected argument 'beta'/);
  });

  it('syncs the local store into a registry and back into an empty store, then has nothing to send', async () => {
    const url = `oci://${host}/mirror`;
    const up = await runCli(['--home', home, 'sync', 'local', url, '--json'], options);
    expect(up.code, up.stderr).toBe(0);
    const sent = (JSON.parse(up.stdout) as { sent: Array<{ kind: string }> }).sent;
    expect(sent.map((item) => item.kind)).toEqual(['model', 'bento', 'bento']);
    const again = JSON.parse((await runCli(['--home', home, 'sync', 'local', `${host}/mirror`, '--json'], options)).stdout) as { sent: unknown[] };
    expect(again.sent).toEqual([]);

    const empty = await makeScratchDir('cli-registry-sync-back');
    const down = await runCli(['--home', empty, 'sync', url, 'local'], options);
    expect(down.code, down.stderr).toBe(0);
    const list = (target: string) => runCli(['--home', target, 'list', '-o', 'json'], options).then((result) => (JSON.parse(result.stdout) as Array<{ tag: string; size_bytes: number }>).map((row) => [row.tag, row.size_bytes]));
    expect(await list(empty)).toEqual(await list(home));
  });
});
