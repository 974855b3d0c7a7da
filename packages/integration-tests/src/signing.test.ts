import { spawnSync } from 'node:child_process';
import { copyFile, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { storeSignaturePath } from '@bentoport/core';
import { sshSigner, sshVerifier } from '@bentoport/signer-ssh';
import { hashTree, writeSampleBento } from '@bentoport/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { bentoportAt, listTree, rejectionOf, scratch } from './harness.js';

const hasSshKeygen = spawnSync('ssh-keygen', ['-?'], { stdio: 'ignore' }).error === undefined;
if (!hasSshKeygen) console.warn('signing: skipped, ssh-keygen is missing (apt-get install openssh-client)');

/** The formats every signed bento must survive, by the archive name that picks each. */
const ARCHIVES = ['svc.bento', 'svc.tar', 'svc.tar.gz', 'svc.zip', 'svc.tar.bz2'];

let root = '';
let key = '';
let strangerKey = '';
let allowedSigners = '';

function newKey(file: string): void {
  const made = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ci', '-f', file]);
  if (made.status !== 0) throw new Error(`ssh-keygen failed: ${made.stderr.toString()}`);
}

beforeAll(async () => {
  if (!hasSshKeygen) return;
  ({ root } = await scratch('signing'));
  key = path.join(root, 'ci_ed25519');
  strangerKey = path.join(root, 'stranger_ed25519');
  newKey(key);
  newKey(strangerKey);
  allowedSigners = path.join(root, 'allowed_signers');
  await writeFile(allowedSigners, `ci@example.com ${(await readFile(`${key}.pub`, 'utf8')).trim()}\n`);
});

describe.skipIf(!hasSshKeygen)('signed bentos', () => {
  it('signs in the store without touching the bento, and ssh-keygen -Y verify accepts the signature over the manifest', async () => {
    const { homeA } = await scratch('signing-store');
    const sample = await writeSampleBento(homeA, { models: 2 });
    const bentoport = bentoportAt(homeA);
    const before = await hashTree(path.join(homeA, 'bentos'));

    const signed = await bentoport.signBento(sample.bentoTag, { signer: sshSigner({ keyFile: key }) });
    expect(signed.signaturePath).toBe(path.join(path.dirname(sample.bentoPath), `${sample.bentoTag.split(':')[1]}.bentoport.sig`));
    // Only the signature file is new; BentoML lists directories only, so it never sees it.
    const after = await hashTree(path.join(homeA, 'bentos'));
    expect([...after.keys()].filter((file) => !before.has(file))).toEqual([path.relative(path.join(homeA, 'bentos'), signed.signaturePath)]);
    expect((await bentoport.listBentos()).map((item) => item.path)).toEqual([sample.bentoPath]);

    const manifest = await bentoport.bentoManifest(sample.bentoTag);
    const manifestText = manifest.toString();
    expect(manifestText.startsWith(`bentoport-manifest 1\nbento ${sample.bentoTag}\n`)).toBe(true);
    for (const model of sample.models) expect(manifestText).toContain(`\nmodel ${model.tag}\n`);
    const openssh = spawnSync('ssh-keygen', ['-Y', 'verify', '-f', allowedSigners, '-I', 'ci@example.com', '-n', 'bentoport', '-s', signed.signaturePath], { input: manifest });
    expect(openssh.stdout.toString() + openssh.stderr.toString()).toContain('Good "bentoport" signature for ci@example.com');

    const verified = await bentoport.verifyBento(sample.bentoTag, { verifier: sshVerifier({ allowedSignersFile: allowedSigners }), principal: 'ci@example.com' });
    expect(verified).toMatchObject({ tag: sample.bentoTag, principal: 'ci@example.com' });

    await bentoport.deleteBento(sample.bentoTag);
    expect(await listTree(path.join(homeA, 'bentos'))).toEqual([]);
  });

  it('accepts a signature that ssh-keygen -Y sign made over the manifest', async () => {
    const { homeA } = await scratch('signing-openssh');
    const sample = await writeSampleBento(homeA);
    const bentoport = bentoportAt(homeA);
    const manifestFile = path.join(homeA, 'manifest');
    await writeFile(manifestFile, await bentoport.bentoManifest(sample.bentoTag));
    expect(spawnSync('ssh-keygen', ['-Y', 'sign', '-f', key, '-n', 'bentoport', manifestFile]).status).toBe(0);
    const item = await bentoport.getBento(sample.bentoTag);
    await writeFile(storeSignaturePath(item), `${await readFile(`${manifestFile}.sig`, 'utf8')}${await readFile(manifestFile, 'utf8')}`);
    expect((await bentoport.verifyBento(sample.bentoTag, { verifier: sshVerifier({ allowedSignersFile: allowedSigners }) })).principal).toBe('ci@example.com');
  });

  it('holds after export to every format and import into another store', { timeout: 120_000 }, async () => {
    const { root: where, homeA, homeB } = await scratch('signing-formats');
    const sample = await writeSampleBento(homeA, { models: 2 });
    const source = bentoportAt(homeA);
    const { signaturePath } = await source.signBento(sample.bentoTag, { signer: sshSigner({ keyFile: key }) });
    const verifier = sshVerifier({ allowedSignersFile: allowedSigners });
    for (const archive of ARCHIVES) {
      const home = path.join(homeB, archive);
      const target = bentoportAt(home);
      const destination = path.join(where, archive);
      await source.exportBento(sample.bentoTag, destination);
      const imported = await target.importBento(destination);
      await copyFile(signaturePath, storeSignaturePath(imported.item));
      const result = await target.verifyBento(sample.bentoTag, { verifier, principal: 'ci@example.com' });
      expect(result.principal, archive).toBe('ci@example.com');
    }
  });

  it('refuses a flipped byte, a renamed file, a changed model, no signature and an unknown key, naming each', async () => {
    const { homeA } = await scratch('signing-refusals');
    const sample = await writeSampleBento(homeA, { models: 2 });
    const bentoport = bentoportAt(homeA);
    const verifier = sshVerifier({ allowedSignersFile: allowedSigners });
    const verify = () => bentoport.verifyBento(sample.bentoTag, { verifier, principal: 'ci@example.com' });

    const unsigned = await rejectionOf(verify());
    expect(unsigned.code).toBe('ERR_SIGNATURE');
    expect(unsigned.message).toContain('has no signature (expected one by principal "ci@example.com")');

    await bentoport.signBento(sample.bentoTag, { signer: sshSigner({ keyFile: strangerKey }) });
    const stranger = await rejectionOf(verify());
    expect(stranger.message).toContain('unknown key');

    await bentoport.signBento(sample.bentoTag, { signer: sshSigner({ keyFile: key }) });
    await verify();

    const weights = path.join(sample.models[1]?.path as string, 'saved_model.bin');
    const original = await readFile(weights);
    const flipped = Buffer.from(original);
    flipped[1000] = (flipped[1000] as number) ^ 1;
    await writeFile(weights, flipped);
    const changedWeights = await rejectionOf(verify());
    expect(changedWeights.message).toContain(`content differs from what ci@example.com`);
    expect(changedWeights.message).toContain(`model ${sample.models[1]?.tag}: "saved_model.bin": its content differs (SHA-256)`);
    await writeFile(weights, original);
    await verify();

    const readme = path.join(sample.bentoPath, 'README.md');
    await rename(readme, `${readme}.old`);
    const renamed = await rejectionOf(verify());
    expect(renamed.message).toContain(`bento ${sample.bentoTag}: "README.md" is signed but missing`);
    await rename(`${readme}.old`, readme);

    // A model of the same tag with other content (a swapped model): its model.yaml differs first.
    const modelYaml = path.join(sample.models[0]?.path as string, 'model.yaml');
    const yamlBefore = await readFile(modelYaml, 'utf8');
    await writeFile(modelYaml, yamlBefore.replace('labels:', 'labels:\n  swapped: "yes"'));
    const swapped = await rejectionOf(verify());
    expect(swapped.message).toContain(`model ${sample.models[0]?.tag}: "model.yaml": its size is`);
    await writeFile(modelYaml, yamlBefore);
    expect((await stat(modelYaml)).size).toBe(Buffer.byteLength(yamlBefore));
    await verify();
  });
});
