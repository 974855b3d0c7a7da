import * as path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeScratchDir, removeScratchDirs, writeSampleBento, type SampleBento } from '@bentoport/test-utils';
import { runCli } from './cli-harness.js';
import { OCI_REGISTRY_SKIP, requireRegistry, startTestOciRegistry, type TestOciRegistry } from './cli-oci-registry.js';

let registry: TestOciRegistry | undefined;
let home: string;
let out: string;
let sample: SampleBento;

beforeAll(async () => {
  home = await makeScratchDir('cli-script');
  out = await makeScratchDir('cli-script-out');
  sample = await writeSampleBento(home, { models: 1, weightsBytes: 8192 });
  registry = await startTestOciRegistry();
});
afterAll(async () => {
  await registry?.stop();
  await removeScratchDirs();
});

/**
 * Real `bentoml` command lines with `bentoml` replaced by `bentoport`, each with the exit code
 * BentoML gives it. BentoML names the registry by login; here `--registry` does (appended by
 * the runner to push/pull lines), the only word a BentoML user adds.
 */
function script(tag: string, model: string, registryHost: string): [string, number, string?][] {
  return [
    ['bentoml list', 0],
    ['bentoml list -o json', 0],
    ['bentoml list sample_service -o yaml', 0],
    ['bentoml --do-not-track list', 0],
    ['bentoml -v list', 0],
    ['bentoml --verbose get sample_service:latest', 0],
    ['bentoml --debug get sample_service -o json', 0],
    [`bentoml get ${tag} -o path`, 0],
    ['bentoml get a:b:c', 1],
    ['bentoml models list', 0],
    [`bentoml models get ${model}`, 0],
    ['bentoml models list -q', 0],
    ['bentoml -q list', 0],
    ['bentoml --quiet models list -o yaml', 0],
    ['bentoml list -o table', 0],
    ['bentoml list --help', 0],
    [`bentoml get ${tag} -o yaml`, 0],
    [`bentoml models get ${model} -o json`, 0],
    [`bentoml models get ${model} --output yaml`, 0],
    [`bentoml models delete ${model} -y`, 1],
    [`bentoml export ${tag} ${out}/svc.bento`, 0],
    [`bentoml export ${tag} ${out}/svc.tar.gz`, 0],
    [`bentoml models export ${model} ${out}/model.bentomodel`, 0],
    [`bentoml export ${tag} ${out}/`, 0],
    [`bentoml models export ${model} ${out}/`, 0],
    [`bentoml export ${tag} ${out}/svc.bento`, 0],
    [`bentoml import ${out}/svc.bento`, 1],
    [`bentoml --context default push ${tag}`, 0, 'registry'],
    [`bentoml push ${tag} -t 4 -f`, 0, 'registry'],
    [`bentoml push ${tag} --threads 2`, 0, 'registry'],
    [`bentoml models push ${model} -t 2`, 0, 'registry'],
    [`bentoml pull ${tag}`, 0, 'registry'],
    [`bentoml pull ${tag} --force`, 0, 'registry'],
    [`bentoml models push ${model} --force`, 0, 'registry'],
    ['bentoml pull sample_service', 0, 'registry'],
    ['bentoml pull sample_service:latest --with-models', 0, 'registry'],
    [`bentoml models pull ${model} -f`, 0, 'registry'],
    [`bentoml models pull -F ${out}/bentofile.yaml`, 0, 'registry'],
    [`bentoml pull ${registryHost}/script/${tag}`, 0],
    ['bentoml delete a:b:c -y', 2],
    [`bentoml delete ${tag} -y`, 0],
    [`bentoml import ${out}/svc.bento`, 0],
    [`bentoml delete ${tag} --yes`, 0],
    [`bentoml import ${out}/svc.tar.gz`, 0],
    [`bentoml delete ${tag} --assume-yes`, 0],
    ['bentoml push nope:v1', 1, 'registry'],
    ['bentoml frobnicate', 2],
  ];
}

it.skipIf(OCI_REGISTRY_SKIP !== undefined)('runs a script of bentoml command lines, each exiting as BentoML would', async () => {
  registry = requireRegistry(registry);
  const tag = sample.bentoTag;
  const model = sample.models[0]?.tag as string;
  await writeFile(path.join(out, 'bentofile.yaml'), `service: "service:Svc"\nmodels:\n  - tag: ${model}\n`);
  const env = { BENTOML_HOME: home, XDG_CONFIG_HOME: out, XDG_CACHE_HOME: out, BENTOPORT_STATE_DIR: out, HOME: out };
  const lines = script(tag, model, registry.host);
  expect(lines.length).toBeGreaterThanOrEqual(40);
  for (const [line, expected, needsRegistry] of lines) {
    const args = line.split(' ').slice(1);
    if (needsRegistry) args.push('--registry', `oci://${registry.host}/script`);
    const result = await runCli(args, { env });
    expect(result.code, `${line.replace(/^bentoml/, 'bentoport')}: ${result.stderr}`).toBe(expected);
  }
  // echo y | bentoml delete TAG
  const piped = await runCli(['import', `${out}/svc.bento`], { env });
  expect(piped.code).toBe(0);
  expect((await runCli(['delete', tag], { env, input: 'y\n' })).code).toBe(0);
});
