import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeScratchDir, removeScratchDirs, writeSampleBento, type SampleBento } from '@bentoport/test-utils';
import { runCli } from './cli-harness.js';
import { OCI_REGISTRY_SKIP, requireRegistry, startTestOciRegistry, type TestOciRegistry } from './cli-oci-registry.js';

const hasSshKeygen = spawnSync('ssh-keygen', ['-?'], { stdio: 'ignore' }).error === undefined;
if (!hasSshKeygen) console.warn('cli signing: skipped, ssh-keygen is missing (apt-get install openssh-client)');

let home = '';
let sample: SampleBento;
let key = '';
let allowed = '';

beforeAll(async () => {
  if (!hasSshKeygen) return;
  home = await makeScratchDir('cli-signing');
  sample = await writeSampleBento(home, { models: 1 });
  key = path.join(home, 'ci_ed25519');
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  allowed = path.join(home, 'allowed_signers');
  await writeFile(allowed, `ci@example.com ${(await readFile(`${key}.pub`, 'utf8')).trim()}\n`);
});
afterAll(removeScratchDirs);

describe.skipIf(!hasSshKeygen)('sign, verify, manifest', () => {
  it('signs, verifies and prints the manifest that ssh-keygen checks the signature against', async () => {
    const unsigned = await runCli(['--home', home, 'verify', sample.bentoTag, '--allowed-signers', allowed]);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toContain('has no signature');

    const signed = await runCli(['--home', home, 'sign', 'sample_service', '--key', key]);
    expect(signed.stderr).toBe('');
    expect(signed.code).toBe(0);
    expect(signed.stdoutLines[0]).toBe(`Bento(tag="${sample.bentoTag}") signed with ${key}.`);
    const signaturePath = signed.stdoutLines[1]?.replace('Signature: ', '') as string;

    const verified = await runCli(['--home', home, 'verify', sample.bentoTag, '--principal', 'ci@example.com'], { env: { BENTOPORT_ALLOWED_SIGNERS: allowed } });
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^Bento\(tag="sample_service:u432a5xip2dc6ax4"\) verified: signed by ci@example\.com \(SHA256:[A-Za-z0-9+/]+\)\.\n$/);

    const manifest = await runCli(['--home', home, 'manifest', sample.bentoTag]);
    expect(manifest.code).toBe(0);
    const openssh = spawnSync('ssh-keygen', ['-Y', 'verify', '-f', allowed, '-I', 'ci@example.com', '-n', 'bentoport', '-s', signaturePath], { input: manifest.stdout });
    expect(openssh.status).toBe(0);

    const json = await runCli(['--home', home, '--json', 'verify', sample.bentoTag, '--allowed-signers', allowed]);
    expect(JSON.parse(json.stdout)).toMatchObject({ tag: sample.bentoTag, principal: 'ci@example.com' });
  });

  it('refuses a changed file with exit 1 and one line naming it; usage errors exit 2', async () => {
    await runCli(['--home', home, 'sign', sample.bentoTag, '--key', key]);
    const readme = path.join(sample.bentoPath, 'README.md');
    const original = await readFile(readme, 'utf8');
    await writeFile(readme, `${original}changed\n`);
    try {
      const changed = await runCli(['--home', home, 'verify', sample.bentoTag, '--allowed-signers', allowed]);
      expect(changed.code).toBe(1);
      expect(changed.stderrLines).toEqual([
        expect.stringMatching(/^Error: \[bentos\] `verify` failed: content differs from what ci@example\.com \(SHA256:.+\) signed: bento sample_service:u432a5xip2dc6ax4: "README\.md": its size is \d+ bytes, signed \d+$/),
      ]);
    } finally {
      await writeFile(readme, original);
    }
    const noKey = await runCli(['--home', home, 'sign', sample.bentoTag], { env: { BENTOPORT_SIGNING_KEY: '' } });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain("'sign' needs --key FILE (or BENTOPORT_SIGNING_KEY)");
    const missingKey = await runCli(['--home', home, 'models', 'sign', sample.models[0]?.tag as string, '--key', path.join(home, 'nope')]);
    expect(missingKey.code).toBe(1);
    expect(missingKey.stderr).toContain('no such file');
  });

  it('export --sign writes <archive>.sig, and import --require-signature checks it before the store changes', async () => {
    const archive = path.join(home, 'signed.tar');
    const exported = await runCli(['--home', home, 'export', sample.bentoTag, archive, '--sign', '--key', key]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain(`Signature written to ${archive}.sig.`);
    // The signature covers every file: the archive is not hashed again, and no digest is printed.
    expect(exported.stdoutLines.at(-1)).toMatch(new RegExp(`^\\d+\\.\\d{2} (B|KiB|MiB) \\(${(await stat(archive)).size} bytes\\)$`));

    const other = path.join(home, 'other-store');
    const imported = await runCli(['--home', other, 'import', archive, '--require-signature', '--allowed-signers', allowed, '--principal', 'ci@example.com']);
    expect(imported.code).toBe(0);
    expect(imported.stdoutLines.at(-1)).toMatch(/^Signature verified: signed by ci@example\.com \(SHA256:.+\)\.$/);
    expect(imported.stdoutLines.at(-2)).toMatch(/^\d+\.\d{2} (B|KiB|MiB) \(\d+ bytes\)$/);
    expect((await runCli(['--home', other, 'verify', sample.bentoTag, '--allowed-signers', allowed])).code).toBe(0);

    const unsigned = path.join(home, 'unsigned.tar');
    const third = path.join(home, 'third-store');
    const plain = await runCli(['--home', home, 'export', sample.bentoTag, unsigned]);
    // The store holds a signature now: it travels without --sign.
    expect(plain.stdout).toContain(`Signature written to ${unsigned}.sig.`);
    await writeFile(`${unsigned}.sig`, 'not a signature\n');
    const refused = await runCli(['--home', third, 'import', unsigned, '--require-signature'], { env: { BENTOPORT_ALLOWED_SIGNERS: allowed } });
    expect(refused.code).toBe(1);
    expect(refused.stderrLines).toEqual([expect.stringContaining('is not a bentoport signature file')]);
    expect((await runCli(['--home', third, 'list', '-o', 'json'])).stdout.trim()).toBe('[]');

    const usage = await runCli(['--home', third, 'import', unsigned, '--allowed-signers', allowed]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--allowed-signers and --principal need --require-signature');
  });

  // From 64 MiB on, a signed export that also writes a .sha256 hashes its archive on a worker thread (export-item.ts).
  it('signs a bento large enough for the threaded archive digest, and ends when its destination cannot be opened', { timeout: 120_000 }, async () => {
    const largeHome = path.join(home, 'large-store');
    const large = await writeSampleBento(largeHome, { models: 1, weightsBytes: 72 * 1024 * 1024 });
    const archive = path.join(home, 'large.tar');
    const exported = await runCli(['--home', largeHome, 'export', large.bentoTag, archive, '--sign', '--key', key, '--checksum-file']);
    expect(exported.code).toBe(0);
    const sha256 = createHash('sha256').update(await readFile(archive)).digest('hex');
    expect(exported.stdout).toContain(sha256);
    const imported = await runCli(['--home', path.join(home, 'large-import'), 'import', archive, '--require-signature', '--allowed-signers', allowed]);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain(`sha256 ${sha256} (verified against the .sha256 file)`);

    // A parent that is a file: the write fails before a byte is hashed, and the hash thread must
    // not keep the process alive (the harness would time out).
    const blocked = path.join(home, 'README-not-a-directory');
    await writeFile(blocked, 'a file\n');
    const failed = await runCli(['--home', largeHome, 'export', large.bentoTag, path.join(blocked, 'out.tar'), '--sign', '--key', key, '--checksum-file']);
    expect(failed.code).toBe(1);
    expect(failed.stderrLines).toHaveLength(1);
  });
});

describe.skipIf(!hasSshKeygen || OCI_REGISTRY_SKIP !== undefined)('push --sign and pull --require-signature', () => {
  let registry: TestOciRegistry | undefined;
  beforeAll(async () => {
    registry = await startTestOciRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('attaches the signature in the registry, and a pull refuses without one or verifies it', async () => {
    const { host } = requireRegistry(registry);
    const target = await makeScratchDir('cli-signing-pull');
    const unsignedPush = await runCli(['--home', home, 'push', sample.bentoTag, '--registry', `${host}/plain`]);
    expect(unsignedPush.code).toBe(0);
    // The store holds a signature from the tests above: it is attached without --sign.
    expect(unsignedPush.stdout).toContain(`Signature attached in oci://${host}/plain.`);

    const pushed = await runCli(['--home', home, 'push', sample.bentoTag, '--registry', `${host}/signed`, '--sign', '--key', key]);
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toContain(`Signature attached in oci://${host}/signed.`);
    const pulled = await runCli(['--home', target, 'pull', `${host}/signed/${sample.bentoTag}`, '--require-signature', '--allowed-signers', allowed]);
    expect(pulled.code).toBe(0);
    expect(pulled.stdoutLines.at(-1)).toMatch(/^Signature verified: signed by ci@example\.com \(SHA256:.+\)\.$/);

    const otherSample = await writeSampleBento(home, { name: 'unsigned_service', version: 'v1', seed: 3, models: 1 });
    expect((await runCli(['--home', home, 'push', otherSample.bentoTag, '--registry', `${host}/signed`])).code).toBe(0);
    const refused = await runCli(['--home', target, 'pull', `${host}/signed/${otherSample.bentoTag}`, '--require-signature', '--allowed-signers', allowed]);
    expect(refused.code).toBe(1);
    expect(refused.stderrLines).toEqual([expect.stringContaining('holds no signature of it; nothing was pulled')]);
    expect((await runCli(['--home', target, 'list', '-o', 'json'])).stdout).not.toContain('unsigned_service');
  });
});
