import { spawnSync } from 'node:child_process';
import { access, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sshSigner, sshVerifier } from '@bentoport/signer-ssh';
import { describe, expect, it } from 'vitest';
import { bentoportAt, readFolderIndex, scratch, writeReleaseStore } from './sync-store.js';

const hasSshKeygen = spawnSync('ssh-keygen', ['-?'], { stdio: 'ignore' }).error === undefined;

describe.skipIf(!hasSshKeygen)('signatures in a remote store', () => {
  it('travel as .sig beside the archive, are in the index, and verify in the store synced back', async () => {
    const { root, homeA, homeB } = await scratch('sync-signed-');
    const [tag] = await writeReleaseStore(homeA);
    const key = path.join(root, 'ci_ed25519');
    const made = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ci', '-f', key]);
    expect(made.status).toBe(0);
    const allowedSigners = path.join(root, 'allowed_signers');
    await writeFile(allowedSigners, `ci@example.com ${(await readFile(`${key}.pub`, 'utf8')).trim()}\n`);

    const source = bentoportAt(homeA);
    await source.signBento(tag as string, { signer: sshSigner({ keyFile: key }) });
    const store = path.join(root, 'store');
    await source.sync('local', store, { filter: tag as string });
    const signed = (await readFolderIndex(store)).items.filter((item) => item.signed);
    expect(signed.map((item) => `${item.name}:${item.version}`)).toEqual([tag]);
    await access(path.join(store, `${signed[0]?.file}.sig`));

    const target = bentoportAt(homeB);
    await target.sync(store, 'local');
    const verified = await target.verifyBento(tag as string, { verifier: sshVerifier({ allowedSignersFile: allowedSigners }), principal: 'ci@example.com' });
    expect(verified.principal).toBe('ci@example.com');
  });
});
