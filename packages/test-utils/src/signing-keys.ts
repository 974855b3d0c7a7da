import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Whether OpenSSH's `ssh-keygen` is installed: the signing tests make their keys with it. */
export const hasSshKeygen = spawnSync('ssh-keygen', ['-?'], { stdio: 'ignore' }).error === undefined;

/** An unencrypted ed25519 key pair, `file` and `file.pub`, commented `ci`. */
export function newSshKey(file: string): void {
  const made = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ci', '-f', file]);
  if (made.status !== 0) throw new Error(`ssh-keygen failed: ${made.stderr.toString()}`);
}

/** The keys of a signing test: one `allowedSigners` lists for `principal`, and a stranger's. */
export interface SigningKeys {
  key: string;
  strangerKey: string;
  allowedSigners: string;
}

/** Makes {@link SigningKeys} in `directory` (`ci_ed25519`, `stranger_ed25519`, `allowed_signers`). */
export async function makeSigningKeys(directory: string, principal: string): Promise<SigningKeys> {
  const key = path.join(directory, 'ci_ed25519');
  const strangerKey = path.join(directory, 'stranger_ed25519');
  newSshKey(key);
  newSshKey(strangerKey);
  const allowedSigners = path.join(directory, 'allowed_signers');
  await writeFile(allowedSigners, `${principal} ${(await readFile(`${key}.pub`, 'utf8')).trim()}\n`);
  return { key, strangerKey, allowedSigners };
}
