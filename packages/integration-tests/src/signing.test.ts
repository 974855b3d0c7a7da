import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BentoportError, storeSignaturePath, type Signer } from '@bentoport/core';
import { sshSigner, sshVerifier } from '@bentoport/signer-ssh';
import { hasSshKeygen, hashTree, makeSigningKeys, writeSampleBento } from '@bentoport/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { bentoportAt, listTree, rejectionOf, scratch } from './harness.js';

if (!hasSshKeygen) console.warn('signing: skipped, ssh-keygen is missing (apt-get install openssh-client)');

/** The formats every signed bento must survive, by the archive name that picks each. */
const ARCHIVES = ['svc.bento', 'svc.tar', 'svc.tar.gz', 'svc.zip', 'svc.tar.bz2'];

let root = '';
let key = '';
let strangerKey = '';
let allowedSigners = '';

beforeAll(async () => {
  if (!hasSshKeygen) return;
  ({ root } = await scratch('signing'));
  ({ key, strangerKey, allowedSigners } = await makeSigningKeys(root, 'ci@example.com'));
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

  it('travels as <archive>.sig through every format and is required on import into another store', { timeout: 180_000 }, async () => {
    const { root: where, homeA, homeB } = await scratch('signing-formats');
    const sample = await writeSampleBento(homeA, { models: 2 });
    const source = bentoportAt(homeA);
    const requireSignature = { verifier: sshVerifier({ allowedSignersFile: allowedSigners }), principal: 'ci@example.com' };
    for (const [index, archive] of ARCHIVES.entries()) {
      const home = path.join(homeB, archive);
      const target = bentoportAt(home);
      const destination = path.join(where, archive);
      // The first export signs; the later ones carry the signature the store now holds.
      const exported = await source.exportBento(sample.bentoTag, destination, undefined, index === 0 ? { sign: sshSigner({ keyFile: key }) } : {});
      expect(exported.signatureFile, archive).toBe(`${destination}.sig`);
      const imported = await target.importBento(destination, undefined, { requireSignature });
      expect(imported.signedBy?.principal, archive).toBe('ci@example.com');
      expect(imported.signatureFile, archive).toBe(storeSignaturePath(imported.item));
      expect((await target.verifyBento(sample.bentoTag, requireSignature)).principal, archive).toBe('ci@example.com');
    }
  });

  it('hashes a signed archive once: no archive digest unless a .sha256 is written or checked', async () => {
    const { root: where, homeA, homeB } = await scratch('signing-digests');
    const sample = await writeSampleBento(homeA, { models: 1 });
    const source = bentoportAt(homeA);
    const sign = sshSigner({ keyFile: key });
    const requireSignature = { verifier: sshVerifier({ allowedSignersFile: allowedSigners }), principal: 'ci@example.com' };
    const fileSha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

    // Signed alone: the signature covers the files, the archive is not hashed a second time.
    const signedOnly = path.join(where, 'signed-only.tar');
    const exported = await source.exportBento(sample.bentoTag, signedOnly, undefined, { sign });
    expect(exported).toMatchObject({ sha256: '', size: (await stat(signedOnly)).size, signatureFile: `${signedOnly}.sig` });
    const imported = await bentoportAt(path.join(homeB, 'a')).importBento(signedOnly, undefined, { requireSignature });
    expect(imported).toMatchObject({ sha256: '', size: exported.size, signedBy: { principal: 'ci@example.com' } });
    expect(imported.verifiedAgainst).toBeUndefined();

    // With a checksum file both digests are taken, and an import checks the sidecar as well.
    const both = path.join(where, 'both.tar');
    const withSidecar = await source.exportBento(sample.bentoTag, both, undefined, { sign, checksumFile: true });
    expect(withSidecar.sha256).toBe(await fileSha256(both));
    expect(await readFile(`${both}.sha256`, 'utf8')).toContain(withSidecar.sha256);
    const checked = await bentoportAt(path.join(homeB, 'b')).importBento(both, undefined, { requireSignature });
    expect(checked).toMatchObject({ sha256: withSidecar.sha256, verifiedAgainst: 'checksum-file', signedBy: { principal: 'ci@example.com' } });
    // An expected digest given as an option is checked too, before the signature.
    const wrong = await rejectionOf(bentoportAt(path.join(homeB, 'c')).importBento(signedOnly, undefined, { requireSignature, sha256: '0'.repeat(64) }));
    expect(wrong.message).toContain('SHA-256 mismatch');
    expect(await listTree(path.join(homeB, 'c', 'bentos'))).toEqual([]);
  });

  it('signs an export after its last byte and before its commit: a signer that fails leaves no archive', async () => {
    const { root, homeA } = await scratch('signing-before-commit');
    const where = path.join(root, 'out');
    await mkdir(where);
    const sample = await writeSampleBento(homeA, { models: 1 });
    const source = bentoportAt(homeA);
    let signedAfterBytes = 0;
    const failing: Signer = {
      apiVersion: 1 as Signer['apiVersion'],
      name: 'failing',
      sign: async () => {
        signedAfterBytes = (await readdir(where)).filter((entry) => entry.includes('.bentoport-')).length;
        throw new BentoportError('ERR_SIGNATURE', '[failing] the key cannot sign');
      },
    };
    for (const archive of ['svc.tar', 'svc.zip', 'folder-out']) {
      const destination = path.join(where, archive);
      const refused = await rejectionOf(source.exportBento(sample.bentoTag, destination, archive === 'folder-out' ? 'folder' : undefined, { sign: failing }));
      expect(refused.message, archive).toContain('the key cannot sign');
      // The signer ran while the archive still sat under its temporary name, all bytes written.
      expect(signedAfterBytes, archive).toBe(1);
      expect(await listTree(where), archive).toEqual([]);
    }
  });

  it('refuses an import whose signature is missing, unknown or stale, leaving the store as it was', { timeout: 120_000 }, async () => {
    const { root: where, homeA, homeB } = await scratch('signing-import-refusals');
    const sample = await writeSampleBento(homeA, { models: 2 });
    const source = bentoportAt(homeA);
    const target = bentoportAt(homeB);
    const requireSignature = { verifier: sshVerifier({ allowedSignersFile: allowedSigners }), principal: 'ci@example.com' };

    const unsigned = path.join(where, 'unsigned.tar.gz');
    await source.exportBento(sample.bentoTag, unsigned);
    const missing = await rejectionOf(target.importBento(unsigned, undefined, { requireSignature }));
    expect(missing.code).toBe('ERR_SIGNATURE');
    expect(missing.message).toContain(`no signature (expected one by principal "ci@example.com"): there is no ${unsigned}.sig`);

    const strangers = path.join(where, 'stranger.tar.gz');
    await source.exportBento(sample.bentoTag, strangers, undefined, { sign: sshSigner({ keyFile: strangerKey }) });
    expect((await rejectionOf(target.importBento(strangers, undefined, { requireSignature }))).message).toContain('unknown key');

    await source.signBento(sample.bentoTag, { signer: sshSigner({ keyFile: key }) });
    const weights = path.join(sample.models[0]?.path as string, 'saved_model.bin');
    const flipped = await readFile(weights);
    flipped[7] = (flipped[7] as number) ^ 0x80;
    await writeFile(weights, flipped);
    const stale = path.join(where, 'stale.zip');
    await source.exportBento(sample.bentoTag, stale);
    const changed = await rejectionOf(target.importBento(stale, undefined, { requireSignature }));
    expect(changed.message).toContain(`model ${sample.models[0]?.tag}: "saved_model.bin": its content differs (SHA-256)`);

    expect(await listTree(path.join(homeB, 'models'))).toEqual([]);
    expect(await listTree(path.join(homeB, 'bentos'))).toEqual([]);
    expect((await listTree(path.join(homeB, 'tmp'))).filter((entry) => entry.startsWith('bentoport-staging'))).toEqual([]);
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
