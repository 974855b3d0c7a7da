import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { open, readFile, readdir, stat } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import { createBentoport, isBentoportError, type Bentoport, type ProgressEvent, type Registry } from '@bentoport/core';
import { hashTree, installedServer, makeScratchDir, removeScratchDirs, writeSampleBento } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ociRegistry, type OciRegistryOptions } from './index.js';
import { startFaultProxy, type FaultProxy } from './test-support/fault-proxy.js';

const servers = inject('oci');
const skip = servers.skip;
if (skip) console.warn(`[registry-oci] skipping the registry tests: ${skip}`);
const MODEL_BYTES = 2 * 1024 * 1024;

let proxy: FaultProxy;
let cache: string;
let repositoryCounter = 0;

beforeAll(async () => {
  if (skip) return;
  proxy = await startFaultProxy(servers.openPort);
  cache = await makeScratchDir('oci-cache');
});
afterAll(async () => {
  await proxy?.close();
  await removeScratchDirs();
});

/** A repository prefix no other test uses. */
function freshRepository(): string {
  repositoryCounter += 1;
  return `team${process.pid}x${repositoryCounter}`;
}

function registryFor(repository: string, extra: Partial<OciRegistryOptions> = {}, port = proxy.port): Registry {
  return ociRegistry({ url: `oci://127.0.0.1:${port}/${repository}`, cacheDirectory: cache, dockerConfig: false, env: {}, ...extra });
}

function bentoportFor(home: string, registry: Registry, events?: ProgressEvent[]): Bentoport {
  return createBentoport({ home, registries: [registry], ...(events ? { onProgress: (event) => events.push(event) } : {}) });
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, `expected ${code}`).toBeDefined();
  expect(isBentoportError(error) ? error.code : String(error)).toBe(code);
  return error as Error;
}

/** A TCP server that accepts connections and never writes a byte: a registry that hangs. */
async function startSilentServer(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => accepted,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function manifestOf(port: number, repository: string, reference: string): Promise<{ layers: Array<{ digest: string; size: number; mediaType: string }> }> {
  const response = await fetch(`http://127.0.0.1:${port}/v2/${repository}/manifests/${reference}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  expect(response.status).toBe(200);
  return (await response.json()) as { layers: Array<{ digest: string; size: number; mediaType: string }> };
}

/** Flip one byte in the middle of a blob in the registry's storage (its size stays). */
async function damageBlob(digest: string): Promise<void> {
  const hex = digest.replace('sha256:', '');
  const file = path.join(servers.openData, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
  const handle = await open(file, 'r+');
  try {
    const size = (await handle.stat()).size;
    const position = Math.floor(size / 2);
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, position);
    byte[0] = (byte[0] as number) ^ 0xff;
    await handle.write(byte, 0, 1, position);
  } finally {
    await handle.close();
  }
}

async function storeIsEmpty(home: string): Promise<boolean> {
  for (const kind of ['bentos', 'models']) {
    const entries = await readdir(path.join(home, kind)).catch(() => [] as string[]);
    if (entries.some((entry) => !entry.startsWith('.'))) return false;
  }
  return true;
}

describe.skipIf(skip !== undefined)('registry-oci against CNCF distribution', () => {
  it('pushes a bento with its models and pulls it into an empty store byte for byte', async () => {
    const home = await makeScratchDir('oci-src');
    const sample = await writeSampleBento(home, { name: 'svc', models: 2, weightsBytes: 256 * 1024 });
    const repository = freshRepository();
    const registry = registryFor(repository);
    const pushed = await bentoportFor(home, registry).push('svc:latest');
    expect(pushed.skipped).toBe(false);
    expect(pushed.models.map((model) => model.skipped)).toEqual([false, false]);
    expect(pushed.location).toBe(`127.0.0.1:${proxy.port}/${repository}/svc:${sample.bentoTag.split(':')[1]}`);

    const target = await makeScratchDir('oci-dst');
    const pulled = await bentoportFor(target, registry).pull(sample.bentoTag);
    expect(pulled.modelsPulled.sort()).toEqual(sample.models.map((model) => model.tag).sort());
    expect(await hashTree(pulled.item.path)).toEqual(await hashTree(sample.bentoPath));
    for (const model of sample.models) {
      const [name, version] = model.tag.split(':') as [string, string];
      expect(await hashTree(path.join(target, 'models', name, version))).toEqual(await hashTree(model.path));
    }
    expect(await registry.list?.('bento', 'svc')).toEqual([sample.bentoTag.split(':')[1]]);
  });

  it('sends no model bytes when the same bento is pushed again, even with force', async () => {
    const home = await makeScratchDir('oci-twice');
    await writeSampleBento(home, { name: 'again', models: [{ name: 'weights', version: 'v1', weightsBytes: MODEL_BYTES }] });
    const bentoport = bentoportFor(home, registryFor(freshRepository()));
    await bentoport.push('again:latest');

    proxy.reset();
    const second = await bentoport.push('again:latest');
    expect(second.skipped).toBe(true);
    expect(second.models).toEqual([{ tag: 'weights:v1', skipped: true }]);
    expect(proxy.clientBytes()).toBeLessThan(MODEL_BYTES / 100);

    proxy.reset();
    const forced = await bentoport.push('again:latest', { force: true });
    expect(forced.skipped).toBe(false);
    // The digest cache names the model layer without reading it, and HEAD finds it.
    expect(proxy.clientBytes()).toBeLessThan(MODEL_BYTES / 100);
    expect(proxy.requests().filter((line) => line.startsWith('PATCH'))).toEqual([]); // both layers known by digest
  });

  it('uploads less than 1% of an unchanged model for a new bento version, and stores the model blob once', async () => {
    const home = await makeScratchDir('oci-shared');
    const models = [{ name: 'shared-model', version: 'm1', weightsBytes: MODEL_BYTES }];
    await writeSampleBento(home, { name: 'first', version: 'v1', models });
    await writeSampleBento(home, { name: 'first', version: 'v2', models, sourceFiles: 25 });
    const repository = freshRepository();
    const bentoport = bentoportFor(home, registryFor(repository));
    await bentoport.push('first:v1');
    proxy.reset();
    const second = await bentoport.push('first:v2');
    const sent = proxy.clientBytes();
    console.log(`[registry-oci] new bento version with an unchanged ${MODEL_BYTES}-byte model: ${sent} bytes sent (${((100 * sent) / MODEL_BYTES).toFixed(2)}% of the model), bytesUploaded ${second.bytesUploaded}`);
    expect(sent).toBeLessThan(MODEL_BYTES / 100);
    expect(second.models).toEqual([{ tag: 'shared-model:m1', skipped: true }]);

    const one = await manifestOf(servers.openPort, `${repository}/first`, 'v1');
    const two = await manifestOf(servers.openPort, `${repository}/first`, 'v2');
    const modelLayer = (manifest: typeof one) => manifest.layers.find((layer) => layer.mediaType.includes('model')) as { digest: string; size: number };
    expect(modelLayer(one).digest).toBe(modelLayer(two).digest);
    const own = await manifestOf(servers.openPort, `${repository}/models/shared-model`, 'm1');
    expect(own.layers).toHaveLength(1);
    expect(own.layers[0]?.digest).toBe(modelLayer(one).digest);
    // The model was sent once: its layer crossed the wire a single time in all three manifests.
    expect(second.bytesUploaded).toBeLessThan(MODEL_BYTES / 100);
  });

  it('is read back by skopeo with every digest intact', async () => {
    if (installedServer(['/usr/bin/skopeo']) === undefined) {
      if (process.env.CI === 'true') throw new Error('CI=true and skopeo is not installed (apt-get install -y skopeo)');
      console.warn('[registry-oci] skopeo is not installed (apt-get install -y skopeo): skipping the interop check');
      return;
    }
    const home = await makeScratchDir('oci-skopeo');
    await writeSampleBento(home, { name: 'interop', version: 'v1', models: 1 });
    const repository = freshRepository();
    const pushed = await bentoportFor(home, registryFor(repository, {}, servers.openPort)).push('interop:v1');
    const reference = `docker://127.0.0.1:${servers.openPort}/${repository}/interop:v1`;
    const raw = execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', reference]);
    expect(`sha256:${createHash('sha256').update(raw).digest('hex')}`).toBe(pushed.digest);
    const manifest = JSON.parse(raw.toString()) as { artifactType: string; config: { digest: string }; layers: Array<{ digest: string }> };
    expect(manifest.artifactType).toBe('application/vnd.bentoport.bento.v1');
    expect(manifest.layers).toHaveLength(2);
    const copy = path.join(await makeScratchDir('oci-skopeo-dir'), 'copy');
    execFileSync('skopeo', ['copy', '--src-tls-verify=false', reference, `dir:${copy}`], { stdio: 'pipe' });
    for (const digest of [manifest.config.digest, ...manifest.layers.map((layer) => layer.digest)]) {
      const hex = digest.replace('sha256:', '');
      const bytes = await readFile(path.join(copy, hex));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(hex);
    }
  });

  it('refuses a blob damaged in the registry storage and stores nothing', async () => {
    const home = await makeScratchDir('oci-corrupt-src');
    await writeSampleBento(home, { name: 'damaged', version: 'v1', models: [{ name: 'damaged-model', version: 'v1', weightsBytes: 512 * 1024 }] });
    const repository = freshRepository();
    const registry = registryFor(repository);
    await bentoportFor(home, registry).push('damaged:v1');
    const manifest = await manifestOf(servers.openPort, `${repository}/models/damaged-model`, 'v1');
    await damageBlob((manifest.layers[0] as { digest: string }).digest);

    const target = await makeScratchDir('oci-corrupt-dst');
    const error = await expectCode(bentoportFor(target, registry).pull('damaged:v1'), 'ERR_CORRUPT_ARCHIVE');
    expect(error.message).toMatch(/SHA-256 mismatch|does not verify/);
    expect(await storeIsEmpty(target)).toBe(true);
  });

  it('keeps the old local copy when a forced pull fails, and replaces only that version when it succeeds', async () => {
    const home = await makeScratchDir('oci-force-src');
    await writeSampleBento(home, { name: 'forced', version: 'v1', models: 1 });
    await writeSampleBento(home, { name: 'forced', version: 'v2', models: 1 });
    const repository = freshRepository();
    const registry = registryFor(repository);
    await bentoportFor(home, registry).push('forced:v1');
    await bentoportFor(home, registry).push('forced:v2');

    const target = await makeScratchDir('oci-force-dst');
    const local = bentoportFor(target, registry);
    await local.pull('forced:v1');
    await local.pull('forced:v2');
    const before = await hashTree(path.join(target, 'bentos', 'forced', 'v1'));
    const skipped = await local.pull('forced:v1');
    expect(skipped.skipped).toBe(true);

    const replaced = await local.pull('forced:v1', { force: true });
    expect(replaced.replaced).toBe(true);
    expect(await hashTree(replaced.item.path)).toEqual(before);
    expect((await local.listBentos('forced')).map((item) => item.tag.version)).toEqual(['v1', 'v2']);

    const manifest = await manifestOf(servers.openPort, `${repository}/forced`, 'v1');
    await damageBlob((manifest.layers[0] as { digest: string }).digest);
    await expectCode(local.pull('forced:v1', { force: true }), 'ERR_CORRUPT_ARCHIVE');
    expect(await hashTree(path.join(target, 'bentos', 'forced', 'v1'))).toEqual(before);
    expect((await local.listBentos('forced')).map((item) => item.tag.version)).toEqual(['v1', 'v2']);
  });

  it('keeps a bento and a model of the same name apart, and escapes names OCI forbids', async () => {
    const home = await makeScratchDir('oci-names');
    const sample = await writeSampleBento(home, { name: 'twin', version: 'v1', models: [{ name: 'twin', version: 'v1' }, { name: 'odd._name', version: 'v1' }] });
    const odd = await writeSampleBento(home, { name: 'a..b', version: 'v1', models: 0 });
    const repository = freshRepository();
    const registry = registryFor(repository);
    proxy.reset();
    await bentoportFor(home, registry).push('twin:v1');
    await bentoportFor(home, registry).push('a..b:v1');
    const paths = proxy.requests().filter((line) => line.startsWith('PUT') && line.includes('/manifests/'));
    expect(paths).toContain(`PUT /v2/${repository}/twin/manifests/v1`);
    expect(paths).toContain(`PUT /v2/${repository}/models/twin/manifests/v1`);
    expect(paths).toContain(`PUT /v2/${repository}/models/odd---2e5f---name/manifests/v1`);
    expect(paths).toContain(`PUT /v2/${repository}/a---2e2e---b/manifests/v1`);

    const target = await makeScratchDir('oci-names-dst');
    const local = bentoportFor(target, registry);
    await local.pull('twin:v1');
    await local.pull('a..b:v1');
    expect(await hashTree(path.join(target, 'bentos', 'twin', 'v1'))).toEqual(await hashTree(sample.bentoPath));
    expect(await hashTree(path.join(target, 'models', 'twin', 'v1'))).toEqual(await hashTree(sample.models[0]?.path as string));
    expect(await hashTree(path.join(target, 'models', 'odd._name', 'v1'))).toEqual(await hashTree(sample.models[1]?.path as string));
    expect(await hashTree(path.join(target, 'bentos', 'a..b', 'v1'))).toEqual(await hashTree(odd.bentoPath));
  });

  describe('a chunked upload cut mid-way completes on the next run', () => {
    const chunkSize = 256 * 1024;

    async function interruptedPush(fault: { occurrence: number; bodyBytes: number }) {
      const home = await makeScratchDir('oci-cut');
      await writeSampleBento(home, { name: 'cut', version: 'v1', models: [{ name: 'cut-model', version: 'v1', weightsBytes: MODEL_BYTES }] });
      const repository = freshRepository();
      proxy.setFault(fault);
      await expectCode(bentoportFor(home, registryFor(repository, { chunkSize, retries: 0 })).push('cut:v1'), 'ERR_IO');
      expect(proxy.fired()).toBe(true);
      proxy.setFault(undefined);
      proxy.reset();
      const events: ProgressEvent[] = [];
      const result = await bentoportFor(home, registryFor(repository, { chunkSize, retries: 0 }), events).push('cut:v1');
      const notices = events.filter((event) => event.type === 'notice').map((event) => (event as { message: string }).message);
      const target = await makeScratchDir('oci-cut-dst');
      await bentoportFor(target, registryFor(repository)).pull('cut:v1');
      expect(await hashTree(path.join(target, 'models', 'cut-model', 'v1'))).toEqual(await hashTree(path.join(home, 'models', 'cut-model', 'v1')));
      return { result, notices, sent: proxy.clientBytes() };
    }

    it('resumes from the registry offset when the cut PATCH delivered no bytes', async () => {
      const { notices, sent } = await interruptedPush({ occurrence: 4, bodyBytes: 0 });
      expect(notices.some((message) => message.includes(`resuming the upload`) && message.includes(`at byte ${3 * chunkSize}`))).toBe(true);
      expect(sent).toBeLessThan(MODEL_BYTES - 2 * chunkSize);
    });

    it('restarts the blob when the registry cannot resume a PATCH cut mid-body (BLOB_UPLOAD_INVALID)', async () => {
      const { notices, sent } = await interruptedPush({ occurrence: 4, bodyBytes: 1000 });
      expect(notices.some((message) => message.includes('again from its start'))).toBe(true);
      expect(sent).toBeGreaterThan(MODEL_BYTES);
    });
  });

  it('recovers within one run from a cut PATCH when retries are allowed', async () => {
    const home = await makeScratchDir('oci-retry');
    await writeSampleBento(home, { name: 'retry', version: 'v1', models: [{ name: 'retry-model', version: 'v1', weightsBytes: MODEL_BYTES }] });
    const repository = freshRepository();
    proxy.setFault({ occurrence: 3, bodyBytes: 5000 });
    await bentoportFor(home, registryFor(repository, { chunkSize: 256 * 1024 })).push('retry:v1');
    expect(proxy.fired()).toBe(true);
    proxy.setFault(undefined);
    const target = await makeScratchDir('oci-retry-dst');
    await bentoportFor(target, registryFor(repository)).pull('retry:v1');
    expect(await hashTree(path.join(target, 'models', 'retry-model', 'v1'))).toEqual(await hashTree(path.join(home, 'models', 'retry-model', 'v1')));
  });

  it('pulls without models on request, and then fetches only the missing ones', async () => {
    const home = await makeScratchDir('oci-without');
    const sample = await writeSampleBento(home, { name: 'lean', version: 'v1', models: 2 });
    const registry = registryFor(freshRepository());
    await bentoportFor(home, registry).push('lean:v1');
    const target = await makeScratchDir('oci-without-dst');
    const local = bentoportFor(target, registry);
    const bare = await local.pull('lean:v1', { withModels: false });
    expect(bare.modelsPulled).toEqual([]);
    expect(await local.listModels()).toEqual([]);
    const again = await local.pull('lean:v1');
    expect(again.skipped).toBe(true);
    expect(again.modelsPulled.sort()).toEqual(sample.models.map((model) => model.tag).sort());
  });

  it('fails with ERR_NOT_FOUND for a version the registry does not hold, and for a bare name it holds none of', async () => {
    const registry = registryFor(freshRepository());
    const local = bentoportFor(await makeScratchDir('oci-missing'), registry);
    await expectCode(local.pull('nothing:v9'), 'ERR_NOT_FOUND');
    await expectCode(local.pull('nothing'), 'ERR_NOT_FOUND');
  });
});

describe.skipIf(skip !== undefined)('registry-oci authentication', () => {
  it('pushes and pulls with Basic credentials, and refuses wrong ones with ERR_AUTH', async () => {
    const home = await makeScratchDir('oci-basic');
    const sample = await writeSampleBento(home, { name: 'guarded', version: 'v1', models: 1 });
    const repository = freshRepository();
    const good = registryFor(repository, { username: servers.user, password: servers.password }, servers.basicPort);
    await bentoportFor(home, good).push('guarded:v1');
    const target = await makeScratchDir('oci-basic-dst');
    const pulled = await bentoportFor(target, good).pull('guarded:v1');
    expect(await hashTree(pulled.item.path)).toEqual(await hashTree(sample.bentoPath));

    const bad = registryFor(repository, { username: servers.user, password: 'wrong' }, servers.basicPort);
    const error = await expectCode(bentoportFor(home, bad).push('guarded:v1', { force: true }), 'ERR_AUTH');
    expect(error.message).not.toContain('wrong');
    await expectCode(bentoportFor(await makeScratchDir('oci-anon'), registryFor(repository, {}, servers.basicPort)).pull('guarded:v1'), 'ERR_AUTH');
  });

  it('reads credentials from a docker config file', async () => {
    const home = await makeScratchDir('oci-docker-config');
    await writeSampleBento(home, { name: 'dockercfg', version: 'v1', models: 0 });
    const config = path.join(home, 'docker-config.json');
    const auth = Buffer.from(`${servers.user}:${servers.password}`).toString('base64');
    await import('node:fs/promises').then(({ writeFile }) => writeFile(config, JSON.stringify({ auths: { [`127.0.0.1:${servers.basicPort}`]: { auth } } })));
    const registry = ociRegistry({ url: `oci://127.0.0.1:${servers.basicPort}/${freshRepository()}`, dockerConfig: config, cacheDirectory: false, env: {} });
    const pushed = await bentoportFor(home, registry).push('dockercfg:v1');
    expect(pushed.skipped).toBe(false);
  });

  it('follows the bearer-token flow through a token endpoint, and refuses wrong credentials with ERR_AUTH', async () => {
    const home = await makeScratchDir('oci-bearer');
    const sample = await writeSampleBento(home, { name: 'tokened', version: 'v1', models: 1 });
    const repository = freshRepository();
    const good = registryFor(repository, { username: servers.user, password: servers.password }, servers.tokenPort);
    const pushed = await bentoportFor(home, good).push('tokened:v1');
    expect(pushed.models).toHaveLength(1);
    const target = await makeScratchDir('oci-bearer-dst');
    const pulled = await bentoportFor(target, good).pull('tokened:v1');
    expect(await hashTree(pulled.item.path)).toEqual(await hashTree(sample.bentoPath));
    expect(pulled.modelsPulled).toHaveLength(1);

    const bad = registryFor(repository, { username: servers.user, password: 'wrong' }, servers.tokenPort);
    const error = await expectCode(bentoportFor(await makeScratchDir('oci-bearer-bad'), bad).pull('tokened:v1'), 'ERR_AUTH');
    expect(error.message).toMatch(/token/);
  });
});

describe('ociRegistry against a registry that accepts and never answers', () => {
  it('fails has() with ERR_IO after timeoutMs per attempt, retried `retries` times, instead of hanging', async () => {
    const silent = await startSilentServer();
    try {
      const registry = ociRegistry({ url: `oci://127.0.0.1:${silent.port}/team`, timeoutMs: 300, retries: 1, retryDelayMs: 10, cacheDirectory: false, dockerConfig: false, env: {} });
      const started = Date.now();
      const error = await expectCode(registry.has({ kind: 'bento', name: 'svc', version: 'v1' }), 'ERR_IO');
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(2 * 300 - 50);
      expect(elapsed).toBeLessThan(5000);
      expect(silent.connections()).toBe(2);
      expect(error.message).toMatch(new RegExp(`^\\[registry-oci\\] HEAD http://127\\.0\\.0\\.1:${silent.port}/v2/team/svc/manifests/v1: `));
      expect(error.message).not.toContain('\n');
    } finally {
      await silent.close();
    }
  });
});

describe('ociRegistry options', () => {
  it('rejects URLs that are not oci://HOST/REPOSITORY with a valid repository path', () => {
    expect(() => ociRegistry({ url: 'https://example.com/team' })).toThrow(/oci:\/\/HOST/);
    expect(() => ociRegistry({ url: 'oci://example.com/Team' })).toThrow(/not a valid OCI repository path/);
    // No repository: items go to the registry's root, as `docker push HOST/NAME:TAG` does.
    expect(ociRegistry({ url: 'oci://example.com:5000' }).url).toBe('oci://example.com:5000');
    expect(ociRegistry({ url: 'oci://example.com/' }).url).toBe('oci://example.com');
    expect(() => ociRegistry({ url: 'oci://example.com/team', chunkSize: 0 })).toThrow(/chunkSize/);
  });

  it('takes the network options every plugin takes, checked the same way', () => {
    for (const name of ['connectTimeoutMs', 'timeoutMs'] as const) {
      const error = (() => {
        try {
          ociRegistry({ url: 'oci://example.com/team', [name]: 0 });
        } catch (caught) {
          return caught;
        }
      })();
      expect(isBentoportError(error, 'ERR_INVALID_OPTION')).toBe(true);
      expect((error as Error).message).toContain(`options.${name}`);
    }
    expect(() => ociRegistry({ url: 'oci://example.com/team', retries: -1 })).toThrow(/options\.retries/);
    expect(() => ociRegistry({ url: 'oci://example.com/team', rejectUnauthorized: 'no' as unknown as boolean })).toThrow(TypeError);
    expect(ociRegistry({ url: 'oci://example.com/team', rejectUnauthorized: false, ca: 'PEM', retries: 0, retryDelayMs: 0 }).url).toBe('oci://example.com/team');
  });

  it('refuses the option names of earlier releases instead of dropping their settings', () => {
    expect(() => ociRegistry({ url: 'oci://example.com/team', insecure: true } as never)).toThrow(
      '[registry-oci] options.insecure was renamed: use rejectUnauthorized: false',
    );
    expect(() => ociRegistry({ url: 'oci://example.com/team', requestTimeoutMs: 1 } as never)).toThrow(
      '[registry-oci] options.requestTimeoutMs was renamed: use timeoutMs',
    );
  });

  it('never shows URL credentials in its url', () => {
    expect(ociRegistry({ url: 'oci://me:secret@example.com/team' }).url).toBe('oci://example.com/team');
  });

  it('keeps its digest cache out of the way when disabled', async () => {
    const registry = ociRegistry({ url: 'oci://example.com/team', cacheDirectory: false });
    expect(registry.capabilities).toEqual({ separateModels: true, dedup: true, resumableUploads: true, latestVersion: true, signatures: true, listItems: true });
    expect(await stat(cache ?? '.').catch(() => undefined)).toBeDefined();
  });
});
