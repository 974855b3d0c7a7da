/**
 * The acceptance test: with a `.yatai.yaml` pointing at the BentoCloud API double,
 * `bentoport push svc:latest` then `bentoport pull svc:<version>` into an empty store round-trips
 * the bento and its models, for each transmission strategy. It runs the built CLI (the root test
 * script builds every package first).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  diffTrees,
  hashTree,
  makeScratchDir,
  removeScratchDirs,
  writeSampleBento,
} from '@bentoport/test-utils';
import { startBentoCloudApiDouble, type BentoCloudApiDouble, type BentoCloudTransmission } from '@bentoport/test-utils/bentocloud-api-double';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const run = promisify(execFile);
const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../apps/cli/dist/cli.js');
const motoEndpoint = inject('motoEndpoint');
if (!existsSync(cli) && process.env.CI === 'true') throw new Error(`${cli} is missing: build the CLI first (pnpm build)`);
const ready = motoEndpoint !== '' && existsSync(cli);

describe.skipIf(!ready)('bentoport push / pull against BentoCloud (CLI)', () => {
  let api: BentoCloudApiDouble;
  beforeAll(async () => {
    api = await startBentoCloudApiDouble({ s3Endpoint: motoEndpoint, bucket: 'bentocloud-cli' });
  });
  afterAll(async () => {
    await api?.close();
    await removeScratchDirs();
  });

  async function loggedInHome(): Promise<string> {
    const home = await makeScratchDir('bentocloud-cli');
    await writeFile(
      path.join(home, '.yatai.yaml'),
      `contexts:\n- api_token: ${api.token}\n  email: someone@example.com\n  endpoint: ${api.url}\n  name: default\ncurrent_context_name: default\n`,
    );
    return home;
  }

  const bentoport = (home: string, ...args: string[]) =>
    run(process.execPath, [cli, '--home', home, ...args], {
      env: { ...process.env, BENTOML_HOME: home, BENTOPORT_REGISTRY: '', XDG_CONFIG_HOME: home, BENTO_CLOUD_API_KEY: '', HTTP_PROXY: '', HTTPS_PROXY: '' },
    });

  for (const strategy of ['proxy', 'presigned-single', 'multipart'] as BentoCloudTransmission[]) {
    it(`push svc:latest then pull svc:<version> into an empty store round-trips the bento and its models (${strategy})`, async () => {
      api.configure({ transmission: strategy, downloadTransmission: strategy });
      const source = await loggedInHome();
      const sample = await writeSampleBento(source, { name: `cli-${strategy}`, models: 2, weightsBytes: 96 * 1024 });
      const pushed = await bentoport(source, 'push', `cli-${strategy}:latest`, '--json');
      expect(JSON.parse(pushed.stdout)).toMatchObject({ tag: sample.bentoTag, skipped: false });

      const target = await loggedInHome();
      await bentoport(target, 'pull', sample.bentoTag);
      const [name, version] = sample.bentoTag.split(':') as [string, string];
      expect(diffTrees(await hashTree(sample.bentoPath), await hashTree(path.join(target, 'bentos', name, version)))).toEqual([]);
      for (const model of sample.models) {
        expect(diffTrees(await hashTree(model.path), await hashTree(path.join(target, 'models', ...model.tag.split(':'))))).toEqual([]);
      }
      expect(api.violations).toEqual([]);
    });
  }
});
