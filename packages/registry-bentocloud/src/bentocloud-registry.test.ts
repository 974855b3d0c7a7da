import { writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { createBentoport, isBentoportError, itemEntries, openItemStore, type ProgressEvent } from '@bentoport/core';
import { tarFormat } from '@bentoport/format-tar';
import {
  diffTrees,
  hashTree,
  makeScratchDir,
  removeScratchDirs,
  startFaultProxy,
  writeSampleBento,
  type SampleBento,
} from '@bentoport/test-utils';
import { startBentoCloudApiDouble, type BentoCloudApiDouble, type BentoCloudTransmission } from '@bentoport/test-utils/bentocloud-api-double';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { bentoCloudRegistry, type BentoCloudRegistryOptions } from './index.js';

const motoEndpoint = inject('motoEndpoint');
const withMoto = motoEndpoint ? describe : describe.skip;

/** Small parts (moto is started with a 64 KiB minimum) and quick retries keep the tests fast. */
const FAST: BentoCloudRegistryOptions = { partSize: 64 * 1024, retryDelayMs: 5, retries: 2 };

let api: BentoCloudApiDouble;

async function writeYatai(home: string, contexts: Array<{ name: string; endpoint: string; api_token: string }>, current: string): Promise<void> {
  // As `bentoml cloud login` writes it (yaml.dump: keys sorted).
  const lines = ['contexts:'];
  for (const context of contexts) {
    lines.push(`- api_token: ${context.api_token}`, `  email: someone@example.com`, `  endpoint: ${context.endpoint}`, `  name: ${context.name}`);
  }
  lines.push(`current_context_name: ${current}`, '');
  await writeFile(path.join(home, '.yatai.yaml'), lines.join('\n'));
}

async function homeWithBento(name: string, options: { models?: number; weightsBytes?: number } = {}): Promise<{ home: string; sample: SampleBento }> {
  const home = await makeScratchDir('bentocloud');
  const sample = await writeSampleBento(home, { name, models: options.models ?? 2, weightsBytes: options.weightsBytes ?? 200 * 1024, sourceFiles: 12 });
  await writeYatai(home, [{ name: 'default', endpoint: api.url, api_token: api.token }], 'default');
  return { home, sample };
}

async function emptyHome(): Promise<string> {
  const home = await makeScratchDir('bentocloud-empty');
  await writeYatai(home, [{ name: 'default', endpoint: api.url, api_token: api.token }], 'default');
  return home;
}

function bentoportAt(home: string, options: BentoCloudRegistryOptions = {}, onProgress?: (event: ProgressEvent) => void) {
  const env = { ...process.env, BENTOML_HOME: home, BENTO_CLOUD_API_KEY: '', BENTOML_CLOUD_CONTEXT: '', HTTP_PROXY: '', HTTPS_PROXY: '', ALL_PROXY: '' };
  const registry = bentoCloudRegistry({ home, env, ...FAST, ...options });
  return { registry, bentoport: createBentoport({ home, registries: [registry], formats: [tarFormat()], ...(onProgress ? { onProgress } : {}) }) };
}

function callNames(): string[] {
  return api.calls.map((call) => `${call.method} ${call.path}`);
}

withMoto('bentoCloudRegistry when the API stops answering mid-upload', () => {
  beforeAll(async () => {
    api = await startBentoCloudApiDouble({ s3Endpoint: motoEndpoint, transmission: 'proxy' });
  });
  afterAll(async () => {
    await api?.close();
    await removeScratchDirs();
  });

  it('gives the upload up after timeoutMs without progress, as it does API calls: one idle timeout for every request', { timeout: 20_000 }, async () => {
    const proxy = await startFaultProxy({ targetPort: Number(new URL(api.url).port) });
    try {
      const { home } = await homeWithBento('stalled', { models: 1 });
      // Stalled for good once the upload's body has begun.
      proxy.inject({ kind: 'stall', afterBytes: 64 * 1024, direction: 'up' });
      const env = { ...process.env, BENTO_CLOUD_API_KEY: '', HTTP_PROXY: '', HTTPS_PROXY: '', ALL_PROXY: '' };
      const registry = bentoCloudRegistry({ apiToken: api.token, endpoint: `http://127.0.0.1:${proxy.port}`, env, timeoutMs: 500, retries: 0 });
      const started = Date.now();
      const error = await createBentoport({ home, registries: [registry], formats: [tarFormat()] })
        .push('stalled:latest')
        .catch((caught: unknown) => caught);
      expect(proxy.faults).toBe(1);
      expect(isBentoportError(error, 'ERR_IO')).toBe(true);
      // The upload (500 ms idle), then finish_upload's report of the failure (500 ms idle).
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      proxy.clear();
      await proxy.close();
    }
  });
});

withMoto('bentoCloudRegistry against the BentoCloud API double and a real S3 server', () => {
  beforeAll(async () => {
    api = await startBentoCloudApiDouble({ s3Endpoint: motoEndpoint });
  });
  afterAll(async () => {
    await api?.close();
    await removeScratchDirs();
  });
  afterEach(() => {
    // Every test ends with a client that never broke the documented flow, unless it cleared this on purpose.
    const violations = [...api.violations];
    api.configure({ transmission: 'multipart', downloadTransmission: 'multipart', fault: null });
    api.resetLog();
    expect(violations).toEqual([]);
  });

  const strategies: BentoCloudTransmission[] = ['proxy', 'proxy-unannounced', 'presigned-single', 'multipart'];
  for (const strategy of strategies) {
    it(`round-trips a bento and its models through BentoCloud with the ${strategy} strategy`, async () => {
      api.configure({ transmission: strategy, downloadTransmission: strategy });
      const { home, sample } = await homeWithBento(`rt-${strategy}`);
      const pushed = await bentoportAt(home).bentoport.push(`rt-${strategy}:latest`);
      expect(pushed.skipped).toBe(false);
      expect(pushed.models.map((model) => model.skipped)).toEqual([false, false]);

      const names = callNames();
      const finishes = api.calls.filter((call) => call.path.endsWith('/finish_upload'));
      expect(finishes).toHaveLength(3); // two models and the bento, each closed, proxy included (BentoML leaves a proxy upload "uploading")
      expect(finishes.every((call) => (call.body as { status: string }).status === 'success')).toBe(true);
      const multipartCalls = names.filter((name) => name.endsWith('/presign_multipart_upload_url')).length;
      const proxyPuts = names.filter((name) => name.startsWith('PUT ') && name.endsWith('/upload')).length;
      if (strategy === 'multipart') expect(multipartCalls).toBeGreaterThan(6); // each 200 KiB model in 4 parts of 64 KiB
      else expect(multipartCalls).toBe(0);
      expect(proxyPuts).toBe(strategy.startsWith('proxy') ? 3 : 0);

      const target = await emptyHome();
      const pulled = await bentoportAt(target).bentoport.pull(sample.bentoTag);
      expect(pulled.skipped).toBe(false);
      expect(pulled.modelsPulled.sort()).toEqual(sample.models.map((model) => model.tag).sort());
      const bentoPath = path.join(target, 'bentos', ...sample.bentoTag.split(':'));
      expect(diffTrees(await hashTree(sample.bentoPath), await hashTree(bentoPath))).toEqual([]);
      for (const model of sample.models) {
        expect(diffTrees(await hashTree(model.path), await hashTree(path.join(target, 'models', ...model.tag.split(':'))))).toEqual([]);
      }
    });
  }

  it('uploads an uncompressed tar laid out as BentoML sends it: ./ root, ./-prefixed names, no models/', async () => {
    api.configure({ transmission: 'presigned-single' });
    const { home, sample } = await homeWithBento('layout', { models: 1 });
    await bentoportAt(home).bentoport.push(sample.bentoTag);
    const [name, version] = sample.bentoTag.split(':') as [string, string];
    const tar = await api.objectBytes('bento', name, version);
    expect(tar.length % 10240).toBe(0);
    expect(tar.subarray(257, 262).toString()).toBe('ustar');
    const names: string[] = [];
    for await (const entry of tarFormat().decode({ stream: () => Readable.from([tar]) }, { format: 'tar' })) names.push(entry.path);
    expect(tar.subarray(0, 2).toString()).toBe('./');
    expect(names).toContain('bento.yaml');
    expect(names.some((entry) => entry === 'models' || entry.startsWith('models/'))).toBe(false);
    // Every raw member name carries the ./ prefix, as CPython's tarfile writes it.
    for (let offset = 0; offset + 512 <= tar.length; offset += 512) {
      if (tar.subarray(257, 262).equals(tar.subarray(offset + 257, offset + 262))) {
        const member = tar.subarray(offset, offset + 100).toString('latin1').replace(/\0.*$/s, '');
        expect(member === '././@PaxHeader' || member.startsWith('./')).toBe(true);
      }
    }
  });

  it('pushes the models first, then creates and uploads the bento', async () => {
    const { home, sample } = await homeWithBento('order');
    await bentoportAt(home).bentoport.push(sample.bentoTag);
    const names = callNames();
    const bentoCreate = names.findIndex((name) => name === 'POST /bento_repositories/order/bentos');
    const lastModelFinish = names.map((name, index) => (name.startsWith('PATCH /model_repositories/') && name.endsWith('/finish_upload') ? index : -1)).reduce((a, b) => Math.max(a, b));
    expect(bentoCreate).toBeGreaterThan(lastModelFinish);
    expect(lastModelFinish).toBeGreaterThan(0);
    const create = api.calls[bentoCreate]?.body as Record<string, unknown>;
    expect(Object.keys(create)).toEqual(['description', 'version', 'manifest', 'build_at', 'labels']);
    expect(create.build_at).toBe('2025-01-02 03:04:05.678901'); // the bento's creation_time, UTC, no zone
    const manifest = create.manifest as Record<string, unknown>;
    expect(manifest.models).toEqual(sample.models.map((model) => model.tag));
    expect(manifest.size_bytes).toBe(sample.bytes);
  });

  it('skips a bento BentoCloud already holds, with BentoML\'s notice, and uploads nothing', async () => {
    const { home, sample } = await homeWithBento('existing');
    await bentoportAt(home).bentoport.push(sample.bentoTag);
    api.resetLog();
    const notices: string[] = [];
    const again = await bentoportAt(home, {}, (event) => event.type === 'notice' && notices.push(event.message)).bentoport.push(sample.bentoTag);
    expect(again.skipped).toBe(true);
    expect(notices).toContain(`Push skipped: Bento "${sample.bentoTag}" already exists in remote Bento store`);
    expect(callNames().filter((name) => !name.startsWith('GET '))).toEqual([]);

    // The registry's own check (BentoML's push GETs the bento and skips a `success` one), when called without core's `has` first.
    const { registry } = bentoportAt(home);
    const direct: string[] = [];
    const [name, version] = sample.bentoTag.split(':') as [string, string];
    const item = await pushItem(home, name, version);
    const result = await registry.push(item, { onProgress: (event) => event.type === 'notice' && direct.push(event.message) });
    expect(result).toMatchObject({ bytesUploaded: 0 });
    expect(direct).toEqual([`Push skipped: Bento "${sample.bentoTag}" already exists in remote Bento store`]);
  });

  it('force uploads again: PATCH update for the bento, no update call for its models, as BentoML does', async () => {
    const { home, sample } = await homeWithBento('forced');
    await bentoportAt(home).bentoport.push(sample.bentoTag);
    api.resetLog();
    const forced = await bentoportAt(home).bentoport.push(sample.bentoTag, { force: true });
    expect(forced.skipped).toBe(false);
    const names = callNames();
    const [name, version] = sample.bentoTag.split(':') as [string, string];
    expect(names).toContain(`PATCH /bento_repositories/${name}/bentos/${version}`);
    expect(names.filter((entry) => entry.startsWith('POST '))).toEqual([]);
    expect(names.filter((entry) => /^PATCH \/model_repositories\/[^/]+\/models\/[^/]+$/.test(entry))).toEqual([]);
    expect(names.filter((entry) => entry.endsWith('/start_upload'))).toHaveLength(3);
  });

  it('pulls NAME and NAME:latest as the newest complete version in the list, passing over an unfinished newer one', async () => {
    const { home, sample } = await homeWithBento('latest', { models: 1 });
    const [name, version] = sample.bentoTag.split(':') as [string, string];
    await bentoportAt(home).bentoport.push(sample.bentoTag);
    // Created after the pushed one, so first in BentoCloud's list, but its upload never finished.
    await api.seed('bento', name, 'zzunfinished0001', undefined, 'pending');
    api.resetLog();
    for (const tag of [name, `${name}:latest`]) {
      const target = await emptyHome();
      const { registry, bentoport } = bentoportAt(target);
      expect(await registry.latest?.('bento', name)).toBe(version);
      const result = await bentoport.pull(tag);
      expect(`${result.item.tag.name}:${result.item.tag.version}`).toBe(sample.bentoTag);
    }
    expect(callNames()).toContain(`GET /bento_repositories/${name}/bentos`);
    expect(api.calls.find((call) => call.path === `/bento_repositories/${name}/bentos`)?.query).toBe('?start=0&count=10');
    const [modelName, modelVersion] = sample.models[0]?.tag.split(':') as [string, string];
    const modelHome = await emptyHome();
    const pulledModel = await bentoportAt(modelHome).bentoport.pullModel(modelName);
    expect(pulledModel.item.tag.version).toBe(modelVersion);
    const missing = await bentoportAt(await emptyHome()).bentoport.pull(`${name}-never-pushed`).catch((caught: unknown) => caught);
    expect(missing).toMatchObject({ code: 'ERR_NOT_FOUND' });
    expect((missing as Error).message).toContain(`Bento "${name}-never-pushed" not found on remote Bento store`);
  });

  it('replaces a remote bento left unfinished by an earlier client (update, not create)', async () => {
    const { home, sample } = await homeWithBento('unfinished', { models: 1 });
    const [name, version] = sample.bentoTag.split(':') as [string, string];
    await api.seed('bento', name, version, undefined, 'failed');
    await bentoportAt(home).bentoport.push(sample.bentoTag);
    expect(api.record('bento', name, version)?.uploadStatus).toBe('success');
    expect(callNames()).toContain(`PATCH /bento_repositories/${name}/bentos/${version}`);
  });

  for (const mode of ['status', 'reset'] as const) {
    it(`retries a part that fails once (${mode === 'status' ? '503' : 'connection cut'}) and completes the upload`, async () => {
      api.configure({ transmission: 'multipart', fault: { partNumber: 2, times: 1, mode } });
      const { home, sample } = await homeWithBento(`retry-${mode}`, { models: 1, weightsBytes: 300 * 1024 });
      await bentoportAt(home).bentoport.push(sample.bentoTag);
      expect(api.faultHits.get(2)).toBeGreaterThanOrEqual(2);
      const model = sample.models[0]?.tag.split(':') as [string, string];
      expect(api.record('model', ...model)?.uploadStatus).toBe('success');
      const target = await emptyHome();
      await bentoportAt(target).bentoport.pull(sample.bentoTag);
      expect(diffTrees(await hashTree(sample.models[0]?.path as string), await hashTree(path.join(target, 'models', ...model)))).toEqual([]);
    });
  }

  it('pushes again a model whose earlier push was killed mid-upload: BentoCloud takes start_upload again and drops the unfinished upload; the push says so', async () => {
    api.configure({ transmission: 'multipart' });
    const { home, sample } = await homeWithBento('killed-earlier', { models: 1 });
    const [name, version] = sample.models[0]?.tag.split(':') as [string, string];
    // What a push killed after its first part leaves: the version "uploading", a multipart upload open.
    await api.seed('model', name, version, undefined, 'pending');
    const headers = { 'X-YATAI-API-TOKEN': api.token, 'X-Bentoml-Version': '1.4.38' };
    for (const action of ['start_upload', 'start_multipart_upload']) {
      const answer = await fetch(`${api.url}/api/v1/model_repositories/${name}/models/${version}/${action}`, { method: 'PATCH', headers });
      expect(answer.status).toBe(200);
    }
    expect((await api.unfinishedUploads()).filter((upload) => upload.includes(name))).toHaveLength(1);

    const notices: string[] = [];
    const { bentoport } = bentoportAt(home, {}, (event) => {
      if (event.type === 'notice') notices.push(event.message);
    });
    await bentoport.push(sample.bentoTag);

    expect(api.record('model', name, version)?.uploadStatus).toBe('success');
    expect((await api.unfinishedUploads()).filter((upload) => upload.includes(name))).toEqual([]);
    expect(notices).toContain(`[registry-bentocloud] starting the upload of model "${name}:${version}" over: an interrupted earlier push left it unfinished (left behind as "uploading")`);
  });

  it('stopped while BentoCloud starts the multipart upload: ERR_ABORTED, no error escapes to the process, and no unfinished upload is left', async () => {
    api.configure({ transmission: 'multipart' });
    const { home, sample } = await homeWithBento('stopped-at-start', { models: 1 });
    const controller = new AbortController();
    api.whenCall('/start_multipart_upload', () => controller.abort());
    const escaped: unknown[] = [];
    const onEscaped = (error: unknown) => escaped.push(error);
    process.on('uncaughtException', onEscaped);
    try {
      const error = await bentoportAt(home).bentoport.push(sample.bentoTag, { signal: controller.signal }).catch((caught: unknown) => caught);
      // Whatever the double still had in hand when the client left.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(isBentoportError(error, 'ERR_ABORTED')).toBe(true);
      expect(escaped).toEqual([]);
      const model = sample.models[0]?.tag.split(':') as [string, string];
      expect(api.record('model', ...model)?.uploadStatus).toBe('failed');
      expect((await api.unfinishedUploads()).filter((upload) => upload.includes('stopped-at-start'))).toEqual([]);
    } finally {
      process.off('uncaughtException', onEscaped);
    }
  });

  it('never sends complete_multipart_upload after a part failed for good, and marks the upload failed (BentoML completes it with the parts it has)', async () => {
    api.configure({ transmission: 'multipart', fault: { partNumber: 3, times: 1000 } });
    const { home, sample } = await homeWithBento('doomed', { models: 1, weightsBytes: 300 * 1024 });
    const error = await bentoportAt(home).bentoport.push(sample.bentoTag).catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_IO')).toBe(true);
    expect((error as Error).message).toMatch(/part 3.*503 SlowDown/);
    expect(api.faultHits.get(3)).toBe((FAST.retries ?? 0) + 1); // the first attempt and every retry
    expect(callNames().filter((name) => name.endsWith('/complete_multipart_upload'))).toEqual([]);
    const finish = api.calls.find((call) => call.path.endsWith('/finish_upload'));
    expect(finish?.body).toMatchObject({ status: 'failed' });
    expect((finish?.body as { reason: string }).reason).toMatch(/SlowDown/);
    const model = sample.models[0]?.tag.split(':') as [string, string];
    expect(api.record('model', ...model)?.uploadStatus).toBe('failed');
  });

  it('reads the context named by current_context_name, --context or BENTOML_CLOUD_CONTEXT from a file with several', async () => {
    const { home, sample } = await homeWithBento('contexts', { models: 1 });
    await bentoportAt(home).bentoport.push(sample.bentoTag);
    const [name, version] = sample.bentoTag.split(':') as [string, string];
    const ref = { kind: 'bento' as const, name, version };
    await writeYatai(
      home,
      [
        { name: 'default', endpoint: api.url, api_token: 'revoked-token-0123' },
        { name: 'staging', endpoint: `${api.url}/`, api_token: api.token },
        { name: 'elsewhere', endpoint: 'http://127.0.0.1:9', api_token: 'another-token-4567' },
      ],
      'staging',
    );
    const env = (extra: Record<string, string>) => ({ ...process.env, BENTO_CLOUD_API_KEY: '', BENTOML_CLOUD_CONTEXT: '', HTTP_PROXY: '', ...extra });
    const current = bentoCloudRegistry({ home, env: env({}) });
    expect(current.url).toBe('bentocloud://staging');
    expect(await current.has(ref)).toBe(true);

    const refused = await bentoCloudRegistry({ home, env: env({}), context: 'default' }).has(ref).catch((caught: unknown) => caught);
    expect(isBentoportError(refused, 'ERR_AUTH')).toBe(true);
    expect((refused as Error).message).toMatch(/403/);
    expect((refused as Error).message).not.toContain('revoked-token-0123');

    const fromEnv = bentoCloudRegistry({ home, env: env({ BENTOML_CLOUD_CONTEXT: 'default' }) });
    expect(fromEnv.url).toBe('bentocloud://default');
    expect(isBentoportError(await fromEnv.has(ref).catch((caught: unknown) => caught), 'ERR_AUTH')).toBe(true);

    const unknown = await bentoCloudRegistry({ home, env: env({}), context: 'nope' }).has(ref).catch((caught: unknown) => caught);
    expect(isBentoportError(unknown, 'ERR_INVALID_OPTION')).toBe(true);
    expect((unknown as Error).message).toContain('No cloud context nope found');
    expect((unknown as Error).message).toContain('default, staging, elsewhere');

    const apiKey = bentoCloudRegistry({ home, env: env({ BENTO_CLOUD_API_KEY: api.token, BENTO_CLOUD_API_ENDPOINT: api.url }), context: 'default' });
    expect(await apiKey.has(ref)).toBe(true);
    // The refused token is the only thing the double objected to.
    expect(api.violations).toEqual([expect.stringMatching(/: 403 /), expect.stringMatching(/: 403 /)]);
    api.resetLog();
  });

  it('reports BentoCloud\'s error message and trace id in one line, without the token', async () => {
    const { home, sample } = await homeWithBento('traced', { models: 0 });
    api.failNextCall('/start_upload', 500);
    const error = await bentoportAt(home).bentoport.push(sample.bentoTag).catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_IO')).toBe(true);
    const message = (error as Error).message;
    expect(message).toMatch(/PATCH \/api\/v1\/bento_repositories\/traced\/bentos\/[^/]+\/start_upload at http:\/\/127\.0\.0\.1:\d+: 500 internal error \(injected by the test double\) \(trace ID [0-9a-f]{32}/);
    expect(message).not.toContain('\n');
    expect(message).not.toContain(api.token);
  });

  it('pull: an unknown version, or a name with none, is ERR_NOT_FOUND with BentoML\'s message', async () => {
    const target = await emptyHome();
    const { bentoport } = bentoportAt(target);
    const missing = await bentoport.pull('nothing-here:v1').catch((caught: unknown) => caught);
    expect(isBentoportError(missing, 'ERR_NOT_FOUND')).toBe(true);
    expect((missing as Error).message).toContain('Bento "nothing-here:v1" not found on remote Bento store');
    // A bare name is the registry's latest, which does not exist.
    const noVersion = await bentoport.pull('nothing-here').catch((caught: unknown) => caught);
    expect(isBentoportError(noVersion, 'ERR_NOT_FOUND')).toBe(true);
    expect((noVersion as Error).message).toContain('Bento "nothing-here" not found on remote Bento store');
  });

  it('pull reads a gzip-compressed tar too, as BentoML\'s tarfile.open auto-detects', async () => {
    api.configure({ transmission: 'presigned-single' });
    const { home, sample } = await homeWithBento('zipped', { models: 0 });
    await bentoportAt(home).bentoport.push(sample.bentoTag);
    const [name, version] = sample.bentoTag.split(':') as [string, string];
    const tar = await api.objectBytes('bento', name, version);
    await api.seed('bento', name, version, gzipSync(tar));
    const target = await emptyHome();
    await bentoportAt(target).bentoport.pull(sample.bentoTag);
    expect(diffTrees(await hashTree(sample.bentoPath), await hashTree(path.join(target, 'bentos', name, version)))).toEqual([]);
  });

  it('the double rejects a client that drifts from the documented flow, with the API\'s error shape', async () => {
    const base = `${api.url}/api/v1`;
    const headers = { 'X-YATAI-API-TOKEN': api.token, 'X-Bentoml-Version': '1.4.38', 'content-type': 'application/json' };
    const attempts: Array<[string, RequestInit, number]> = [
      ['/bento_repositories/x', { headers: { 'X-YATAI-API-TOKEN': api.token } }, 400], // no X-Bentoml-Version
      ['/bento_repositories/x', { headers: { ...headers, 'X-YATAI-API-TOKEN': 'wrong' } }, 403],
      ['/bento_repositories', { method: 'POST', headers, body: JSON.stringify({ name: 'drift' }) }, 400], // description missing
      ['/bento_repositories', { method: 'POST', headers, body: JSON.stringify({ name: 'drift', description: '' }) }, 200],
      [
        '/bento_repositories/drift/bentos',
        { method: 'POST', headers, body: JSON.stringify({ description: '', version: 'v1', manifest: {}, build_at: '2025-01-02T03:04:05Z', labels: [] }) },
        400,
      ],
      ['/bento_repositories/drift/bentos/v1/start_upload', { method: 'PATCH', headers }, 404],
      ['/bento_repositories/drift/bentos/v1/start_upload', { method: 'POST', headers }, 404],
    ];
    for (const [route, init, status] of attempts) {
      const response = await fetch(`${base}${route}`, init);
      expect([route, response.status]).toEqual([route, status]);
      const body = (await response.json()) as Record<string, unknown>;
      if (status !== 200) expect(typeof body.message).toBe('string');
    }
    // A finish before start_upload on an existing bento is an order violation.
    const { home, sample } = await homeWithBento('drift2', { models: 0 });
    const [name, version] = sample.bentoTag.split(':') as [string, string];
    await api.seed('bento', name, version, undefined, 'pending');
    const early = await fetch(`${base}/bento_repositories/${name}/bentos/${version}/finish_upload`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ status: 'success', reason: '' }),
    });
    expect(early.status).toBe(400);
    expect(((await early.json()) as { message: string }).message).toContain('before start_upload');
    expect(api.violations.length).toBe(5);
    expect(home).toBeTruthy();
    api.resetLog();
  });
});

/** A TCP server that accepts connections and never writes a byte: a BentoCloud that hangs. */
async function startSilentServer(): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createTcpServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => accepted,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('bentoCloudRegistry against an API that accepts and never answers', () => {
  it('fails has() with ERR_IO after timeoutMs per attempt, retried `retries` times, instead of hanging', async () => {
    const silent = await startSilentServer();
    try {
      const registry = bentoCloudRegistry({ apiToken: 'silent-token-0123', endpoint: silent.url, timeoutMs: 300, retries: 1, retryDelayMs: 10, env: {} });
      const started = Date.now();
      const error = await registry.has({ kind: 'bento', name: 'svc', version: 'v1' }).catch((caught: unknown) => caught);
      const elapsed = Date.now() - started;
      expect(isBentoportError(error, 'ERR_IO')).toBe(true);
      expect(elapsed).toBeGreaterThanOrEqual(2 * 300 - 50);
      expect(elapsed).toBeLessThan(5000);
      expect(silent.connections()).toBe(2);
      expect((error as Error).message).toMatch(/^\[registry-bentocloud\] GET \/api\/v1\/bento_repositories\/svc\/bentos\/v1 at http:\/\/127\.0\.0\.1:\d+: /);
      expect((error as Error).message).not.toContain('silent-token-0123');
    } finally {
      await silent.close();
    }
  });
});

describe('bentoCloudRegistry options', () => {
  it('takes the network options every plugin takes, checked the same way', () => {
    for (const name of ['connectTimeoutMs', 'timeoutMs'] as const) {
      let error: unknown;
      try {
        bentoCloudRegistry({ [name]: 0 });
      } catch (caught) {
        error = caught;
      }
      expect(isBentoportError(error, 'ERR_INVALID_OPTION')).toBe(true);
      expect((error as Error).message).toContain(`options.${name}`);
    }
    expect(() => bentoCloudRegistry({ retries: -1 })).toThrow(/options\.retries/);
    expect(() => bentoCloudRegistry({ partSize: 1024 })).toThrow(/options\.partSize/);
    expect(() => bentoCloudRegistry({ rejectUnauthorized: 'no' as unknown as boolean })).toThrow(TypeError);
    expect(() => bentoCloudRegistry(null as unknown as BentoCloudRegistryOptions)).toThrow(TypeError);
    expect(bentoCloudRegistry({ context: 'staging', rejectUnauthorized: false, ca: 'PEM', retries: 0, env: {} }).url).toBe('bentocloud://staging');
  });
});

async function pushItem(home: string, name: string, version: string) {
  const item = await openItemStore(home, 'bento').get(`${name}:${version}`);
  return {
    ref: { kind: 'bento' as const, name, version },
    metadata: item.metadata,
    directory: item.path,
    contentBytes: 0,
    models: [],
    entries: () => itemEntries({ trees: [{ directory: item.path, prefix: '', exclude: ['models'] }], mtime: Math.floor(item.metadata.creationTime / 1e6), keepSymlinks: true }),
  };
}

/** A small forward proxy (CONNECT tunnels and absolute-URI requests) that logs where it connects. */
async function startLoggingProxy(): Promise<{ url: string; hosts: string[]; close: () => Promise<void> }> {
  const hosts: string[] = [];
  const server = createHttpServer((request, response) => {
    const target = new URL(request.url ?? '');
    hosts.push(target.host);
    const upstream = httpRequest(target, { method: request.method, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  server.on('connect', (request, socket, head) => {
    hosts.push(request.url ?? '');
    const [host, port] = (request.url ?? '').split(':');
    const upstream = connect(Number(port), host as string, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hosts,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

withMoto('bentoCloudRegistry behind an HTTP proxy', () => {
  let proxy: Awaited<ReturnType<typeof startLoggingProxy>>;
  beforeAll(async () => {
    api = await startBentoCloudApiDouble({ s3Endpoint: motoEndpoint, bucket: 'bentocloud-proxied', transmission: 'presigned-single' });
    proxy = await startLoggingProxy();
  });
  afterAll(async () => {
    await proxy?.close();
    await api?.close();
    await removeScratchDirs();
  });

  it('sends the API calls and the presigned transfers through HTTP_PROXY, and nothing when NO_PROXY names the hosts', async () => {
    const { home, sample } = await homeWithBento('proxied', { models: 1 });
    const apiHost = new URL(api.url).host;
    const s3Host = new URL(motoEndpoint).host;
    const proxied = (noProxy: string) => ({ ...process.env, BENTO_CLOUD_API_KEY: '', BENTOML_CLOUD_CONTEXT: '', HTTP_PROXY: proxy.url, HTTPS_PROXY: '', NO_PROXY: noProxy, no_proxy: noProxy });
    const through = createBentoport({ home, registries: [bentoCloudRegistry({ home, env: proxied(''), ...FAST })] });
    await through.push(sample.bentoTag);
    expect(proxy.hosts).toContain(apiHost);
    expect(proxy.hosts).toContain(s3Host);

    proxy.hosts.length = 0;
    const target = await emptyHome();
    const direct = createBentoport({ home: target, registries: [bentoCloudRegistry({ home: target, env: proxied('127.0.0.1'), ...FAST })] });
    await direct.pull(sample.bentoTag);
    expect(proxy.hosts).toEqual([]);
    expect(api.violations).toEqual([]);
  });

  it('refuses the option names of earlier releases instead of dropping their settings', () => {
    expect(() => bentoCloudRegistry({ attempts: 9 } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(/^\[registry-bentocloud\] options\.attempts was renamed: use retries\b/) }),
    );
    expect(() => bentoCloudRegistry({ requestTimeoutMs: 1 } as never)).toThrow('[registry-bentocloud] options.requestTimeoutMs was renamed: use timeoutMs');
    expect(() => bentoCloudRegistry({ transferTimeoutMs: 600_000 } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(/^\[registry-bentocloud\] options\.transferTimeoutMs was renamed: use timeoutMs\b/) }),
    );
  });
});
