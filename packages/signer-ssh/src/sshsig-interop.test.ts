import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isBentoportError } from '@bentoport/spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshSigner, sshVerifier } from './index.js';

const hasSshKeygen = spawnSync('ssh-keygen', ['-?'], { stdio: 'ignore' }).error === undefined;
if (!hasSshKeygen) console.warn('signer-ssh interop: skipped, ssh-keygen is missing (apt-get install openssh-client)');

const NAMESPACE = 'bentoport';
const MESSAGE = Buffer.from('bentoport-manifest 1\nbento svc:v1\n');
const KEY_TYPES = [
  ['ed25519', ['-t', 'ed25519']],
  ['ecdsa-256', ['-t', 'ecdsa', '-b', '256']],
  ['ecdsa-384', ['-t', 'ecdsa', '-b', '384']],
  ['ecdsa-521', ['-t', 'ecdsa', '-b', '521']],
  ['rsa-3072', ['-t', 'rsa', '-b', '3072']],
] as const;

let scratch = '';

function keygen(args: readonly string[], input?: Buffer): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('ssh-keygen', args, { input, encoding: 'buffer', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

/** A fresh key pair in the scratch directory; `extra` adds ssh-keygen flags (`-m PEM`, `-N pass`). */
function newKey(name: string, typeArgs: readonly string[], extra: readonly string[] = ['-N', '']): string {
  const file = path.join(scratch, name);
  const made = keygen(['-q', ...typeArgs, ...extra, '-C', `${name}@test`, '-f', file]);
  if (made.status !== 0) throw new Error(`ssh-keygen failed: ${made.stderr}`);
  return file;
}

function allowedSigners(lines: string[]): string {
  const file = path.join(scratch, `allowed-${lines.length}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function publicKey(file: string): string {
  return readFileSync(`${file}.pub`, 'utf8').trim();
}

/** `ssh-keygen -Y verify`: its exit status and what it printed. */
function opensshVerify(allowed: string, principal: string, signatureText: string, message: Buffer): { status: number | null; output: string } {
  const signatureFile = path.join(scratch, `sig-${Math.random().toString(36).slice(2)}.sig`);
  writeFileSync(signatureFile, signatureText);
  const result = keygen(['-Y', 'verify', '-f', allowed, '-I', principal, '-n', NAMESPACE, '-s', signatureFile], message);
  return { status: result.status, output: result.stdout + result.stderr };
}

/** `ssh-keygen -Y sign` of `message` with `keyFile`: the armored signature. */
function opensshSign(keyFile: string, message: Buffer, namespace = NAMESPACE): string {
  const messageFile = path.join(scratch, `msg-${Math.random().toString(36).slice(2)}`);
  writeFileSync(messageFile, message);
  const result = keygen(['-Y', 'sign', '-f', keyFile, '-n', namespace, messageFile]);
  if (result.status !== 0) throw new Error(`ssh-keygen -Y sign failed: ${result.stderr}`);
  return readFileSync(`${messageFile}.sig`, 'utf8');
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (!isBentoportError(error)) throw error;
    return { code: error.code, message: error.message };
  }
  throw new Error('expected a refusal');
}

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'signer-ssh-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(!hasSshKeygen)('SSH signatures, both ways with OpenSSH', () => {
  for (const [label, typeArgs] of KEY_TYPES) {
    it(`${label}: ssh-keygen -Y verify accepts ours, and we accept ssh-keygen's`, async () => {
      const key = newKey(label, typeArgs);
      const allowed = allowedSigners([`ci@example.com ${publicKey(key)}`]);

      const ours = await sshSigner({ keyFile: key }).sign(MESSAGE, NAMESPACE);
      expect(ours.scheme).toBe('sshsig');
      const checked = opensshVerify(allowed, 'ci@example.com', ours.text, MESSAGE);
      expect(checked.output).toContain('Good "bentoport" signature for ci@example.com');
      expect(checked.status).toBe(0);

      const theirs = opensshSign(key, MESSAGE);
      const verified = await sshVerifier({ allowedSignersFile: allowed }).verify(MESSAGE, { scheme: 'sshsig', text: theirs }, NAMESPACE, 'ci@example.com');
      expect(verified.principal).toBe('ci@example.com');
      const fingerprint = keygen(['-l', '-f', `${key}.pub`]).stdout.split(' ')[1];
      expect(verified.keyFingerprint).toBe(fingerprint);
    });
  }

  it('reads PEM and PKCS#8 key files, and encrypted PEM with its passphrase', async () => {
    const pem = newKey('rsa-pem', ['-t', 'rsa', '-b', '2048'], ['-N', '', '-m', 'PEM']);
    const pkcs8 = newKey('ecdsa-pkcs8', ['-t', 'ecdsa', '-b', '256'], ['-N', '', '-m', 'PKCS8']);
    const encrypted = newKey('rsa-pem-encrypted', ['-t', 'rsa', '-b', '2048'], ['-N', 'hunter22', '-m', 'PEM']);
    const allowed = allowedSigners([pem, pkcs8, encrypted].map((file) => `ci ${publicKey(file)}`));
    for (const [keyFile, passphrase] of [[pem], [pkcs8], [encrypted, 'hunter22']] as const) {
      const signature = await sshSigner({ keyFile, ...(passphrase === undefined ? {} : { passphrase }) }).sign(MESSAGE, NAMESPACE);
      expect(opensshVerify(allowed, 'ci', signature.text, MESSAGE).status).toBe(0);
    }
    const withoutPassphrase = await refusal(sshSigner({ keyFile: encrypted }).sign(MESSAGE, NAMESPACE));
    expect(withoutPassphrase).toMatchObject({ code: 'ERR_SIGNATURE' });
    expect(withoutPassphrase.message).toContain('give its passphrase');
  });

  it('sends an encrypted OpenSSH key to the agent, and signs through the agent with its .pub', async () => {
    const key = newKey('agent-ed25519', ['-t', 'ed25519'], ['-N', 'correct horse']);
    const direct = await refusal(sshSigner({ keyFile: key }).sign(MESSAGE, NAMESPACE));
    expect(direct.code).toBe('ERR_SIGNATURE');
    expect(direct.message).toContain('ssh-add');

    const socket = path.join(scratch, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      const deadline = Date.now() + 10_000;
      while (spawnSync('ssh-add', ['-l'], { env: { ...process.env, SSH_AUTH_SOCK: socket } }).status === 2 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const signer = sshSigner({ keyFile: `${key}.pub`, agentSocket: socket });
      const missing = await refusal(signer.sign(MESSAGE, NAMESPACE));
      expect(missing.message).toContain('does not hold this key');

      // ssh-add reads the passphrase from SSH_ASKPASS when it has no terminal.
      const askpass = path.join(scratch, 'askpass.sh');
      writeFileSync(askpass, "#!/bin/sh\necho 'correct horse'\n", { mode: 0o700 });
      const added = spawnSync('ssh-add', [key], {
        env: { ...process.env, SSH_AUTH_SOCK: socket, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 10_000,
      });
      expect(added.status, added.stderr.toString()).toBe(0);

      const rsa = newKey('agent-rsa', ['-t', 'rsa', '-b', '2048']);
      expect(spawnSync('ssh-add', [rsa], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' }).status).toBe(0);
      const allowed = allowedSigners([`ci ${publicKey(key)}`, `ci ${publicKey(rsa)}`]);
      for (const file of [key, rsa]) {
        const signature = await sshSigner({ keyFile: `${file}.pub`, agentSocket: socket }).sign(MESSAGE, NAMESPACE);
        expect(opensshVerify(allowed, 'ci', signature.text, MESSAGE).status).toBe(0);
      }
    } finally {
      agent.kill();
    }
  });

  it('refuses a changed message, an unknown key, another principal, another namespace and a key outside its validity', async () => {
    const key = newKey('policy', ['-t', 'ed25519']);
    const stranger = newKey('stranger', ['-t', 'ed25519']);
    const signature = { scheme: 'sshsig', text: opensshSign(key, MESSAGE) };
    const allowed = allowedSigners([`ci@example.com,!evil@example.com ${publicKey(key)}`]);
    const verifier = sshVerifier({ allowedSignersFile: allowed });

    const changed = await refusal(verifier.verify(Buffer.concat([MESSAGE, Buffer.from('x')]), signature, NAMESPACE));
    expect(changed).toMatchObject({ code: 'ERR_SIGNATURE' });
    expect(changed.message).toContain('bad signature');

    const unknown = await refusal(verifier.verify(MESSAGE, { scheme: 'sshsig', text: opensshSign(stranger, MESSAGE) }, NAMESPACE, 'ci@example.com'));
    expect(unknown.message).toContain('unknown key');
    expect(unknown.message).toContain('principal "ci@example.com"');

    expect((await refusal(verifier.verify(MESSAGE, signature, NAMESPACE, 'evil@example.com'))).message).toContain('not for principal "evil@example.com"');
    expect((await refusal(verifier.verify(MESSAGE, { scheme: 'sshsig', text: opensshSign(key, MESSAGE, 'git') }, NAMESPACE))).message).toContain(
      'namespace "git", not "bentoport"',
    );

    const restricted = sshVerifier({ allowedSignersFile: allowedSigners([`ci namespaces="git,file" ${publicKey(key)}`]) });
    expect((await refusal(restricted.verify(MESSAGE, signature, NAMESPACE))).message).toContain('is not allowed to sign in namespace "bentoport"');
    const expired = sshVerifier({ allowedSignersFile: allowedSigners([`ci valid-before="20200101" ${publicKey(key)}`]) });
    expect((await refusal(expired.verify(MESSAGE, signature, NAMESPACE))).message).toContain('is outside its validity');
    const current = sshVerifier({ allowedSignersFile: allowedSigners([`ci valid-after="20200101Z",valid-before="29991231" ${publicKey(key)}`]) });
    expect((await current.verify(MESSAGE, signature, NAMESPACE)).principal).toBe('ci');

    const lines = signature.text.split('\n');
    lines[1] = `${(lines[1] as string).slice(0, 10)}${(lines[1] as string).slice(20)}`;
    const garbled = await refusal(verifier.verify(MESSAGE, { scheme: 'sshsig', text: lines.join('\n') }, NAMESPACE));
    expect(garbled).toMatchObject({ code: 'ERR_SIGNATURE' });
    expect(garbled.message).toContain('malformed signature');
  });

  it('names the file for a missing key, a missing allowed_signers and a malformed line', async () => {
    expect(await refusal(sshSigner({ keyFile: path.join(scratch, 'nope') }).sign(MESSAGE, NAMESPACE))).toMatchObject({ code: 'ERR_NOT_FOUND' });
    const key = newKey('files', ['-t', 'ed25519']);
    const signature = { scheme: 'sshsig', text: opensshSign(key, MESSAGE) };
    expect(await refusal(sshVerifier({ allowedSignersFile: path.join(scratch, 'none') }).verify(MESSAGE, signature, NAMESPACE))).toMatchObject({ code: 'ERR_NOT_FOUND' });
    const broken = await refusal(sshVerifier({ allowedSignersFile: allowedSigners(['ci ssh-ed25519 not-base64!']) }).verify(MESSAGE, signature, NAMESPACE));
    expect(broken.code).toBe('ERR_INVALID_OPTION');
    expect(broken.message).toContain('line 1');
  });
});
