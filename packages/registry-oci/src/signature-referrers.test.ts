import { spawnSync } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createBentoport, isBentoportError, type Bentoport, type Registry } from '@bentoport/core';
import { sshSigner, sshVerifier } from '@bentoport/signer-ssh';
import { makeScratchDir, removeScratchDirs, writeSampleBento } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ociRegistry } from './index.js';

const servers = inject('oci');
const hasSshKeygen = spawnSync('ssh-keygen', ['-?'], { stdio: 'ignore' }).error === undefined;
const skip = servers.skip ?? (hasSshKeygen ? undefined : 'ssh-keygen is missing (apt-get install openssh-client)');
if (skip) console.warn(`[registry-oci] skipping the signature tests: ${skip}`);

let root = '';
let key = '';
let stranger = '';
let allowedSigners = '';
let repositoryCounter = 0;

beforeAll(async () => {
  if (skip) return;
  root = await makeScratchDir('oci-signatures');
  key = path.join(root, 'ci_ed25519');
  stranger = path.join(root, 'stranger_ed25519');
  for (const file of [key, stranger]) spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  allowedSigners = path.join(root, 'allowed_signers');
  await writeFile(allowedSigners, `ci@example.com ${(await readFile(`${key}.pub`, 'utf8')).trim()}\n`);
});
afterAll(removeScratchDirs);

function registryFor(repository: string): Registry {
  return ociRegistry({ url: `oci://127.0.0.1:${servers.openPort}/${repository}`, cacheDirectory: path.join(root, 'cache'), dockerConfig: false, env: {} });
}

function freshRepository(): string {
  repositoryCounter += 1;
  return `signed${process.pid}x${repositoryCounter}`;
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isBentoportError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a failure');
}

async function storeItems(bentoport: Bentoport): Promise<number> {
  return (await bentoport.listBentos()).length + (await bentoport.listModels()).length;
}

describe.skipIf(skip !== undefined)('signatures in an OCI registry (referrers, tag schema fallback)', () => {
  const requireSignature = () => ({ verifier: sshVerifier({ allowedSignersFile: allowedSigners }), principal: 'ci@example.com' });

  it('push --sign attaches a referrer that a pull with a required signature verifies before install', async () => {
    const source = await makeScratchDir('oci-signed-source');
    const sample = await writeSampleBento(source, { name: 'svc', models: 2 });
    const repository = freshRepository();
    const registry = registryFor(repository);
    const pushed = await createBentoport({ home: source, registries: [registry] }).push(sample.bentoTag, { sign: sshSigner({ keyFile: key }) });
    expect(pushed.signed).toBe(true);

    // Distribution 2.8 has no referrers API: the signature is listed in the sha256-<hex> index.
    const manifest = await fetch(`http://127.0.0.1:${servers.openPort}/v2/${repository}/svc/manifests/${sample.bentoTag.split(':')[1]}`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    const digest = manifest.headers.get('docker-content-digest') as string;
    const index = (await (
      await fetch(`http://127.0.0.1:${servers.openPort}/v2/${repository}/svc/manifests/${digest.replace(':', '-')}`, { headers: { accept: 'application/vnd.oci.image.index.v1+json' } })
    ).json()) as { manifests: { artifactType: string }[] };
    expect(index.manifests.map((entry) => entry.artifactType)).toEqual(['application/vnd.bentoport.signature.v1']);

    const target = createBentoport({ home: await makeScratchDir('oci-signed-target'), registries: [registry] });
    const pulled = await target.pull(sample.bentoTag, { requireSignature: requireSignature() });
    expect(pulled.signedBy?.principal).toBe('ci@example.com');
    expect((await target.verifyBento(sample.bentoTag, requireSignature())).principal).toBe('ci@example.com');

    // Pushing the same signature again lists it once.
    await createBentoport({ home: source, registries: [registry] }).push(sample.bentoTag);
    expect(await registry.getSignature?.({ kind: 'bento', name: 'svc', version: sample.bentoTag.split(':')[1] as string })).toBe(
      await readFile(path.join(source, 'bentos', 'svc', `${sample.bentoTag.split(':')[1]}.bentoport.sig`), 'utf8'),
    );
  });

  it('refuses a pull without a signature, or signed by an unknown key, and the store stays empty', async () => {
    const source = await makeScratchDir('oci-unsigned-source');
    const sample = await writeSampleBento(source, { name: 'svc', models: 1 });
    const repository = freshRepository();
    const registry = registryFor(repository);
    await createBentoport({ home: source, registries: [registry] }).push(sample.bentoTag);
    const targetHome = await makeScratchDir('oci-unsigned-target');
    const target = createBentoport({ home: targetHome, registries: [registry] });

    const unsigned = await failure(target.pull(sample.bentoTag, { requireSignature: requireSignature() }));
    expect(unsigned.code).toBe('ERR_SIGNATURE');
    expect(unsigned.message).toContain('holds no signature of it; nothing was pulled');

    await createBentoport({ home: source, registries: [registry] }).push(sample.bentoTag, { sign: sshSigner({ keyFile: stranger }) });
    const unknown = await failure(target.pull(sample.bentoTag, { requireSignature: requireSignature() }));
    expect(unknown.message).toContain('unknown key');
    expect(await storeItems(target)).toBe(0);
    expect((await readdir(path.join(targetHome, 'bentos')).catch(() => [] as string[])).filter((name) => !name.startsWith('.'))).toEqual([]);

    // Without a requirement the pull goes ahead and keeps the signature it found, unchecked.
    await target.pull(sample.bentoTag);
    expect((await failure(target.verifyBento(sample.bentoTag, requireSignature()))).message).toContain('unknown key');
  });
});
