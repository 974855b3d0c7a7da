import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createBentoport, isBentoportError, type Location, type Transport } from '@bentoport/core';
import { tarFormat } from '@bentoport/format-tar';
import { hashTree, makeScratchDir, removeScratchDirs, startCountingProxy, writeSampleBento, type CountingProxy } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sftpTransport } from './sftp-transport.js';
import { makeUserDirectory, serverUrl, urlLocation } from './test-support/locations.js';

const servers = inject('sftp');
const MiB = 1024 * 1024;

function seeded(length: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  let state = seed >>> 0;
  for (let offset = 0; offset < length; offset += 4) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    bytes.writeUInt32LE(state, Math.min(offset, length - 4));
  }
  return bytes;
}

async function put(transport: Transport, location: Location, data: Buffer, chunk = 256 * 1024): Promise<void> {
  const writer = await transport.write(location);
  try {
    for (let offset = 0; offset < data.length; offset += chunk) {
      if (!writer.stream.write(data.subarray(offset, offset + chunk))) await new Promise((resolve) => writer.stream.once('drain', resolve));
    }
    writer.stream.end();
    await finished(writer.stream);
    await writer.commit();
  } catch (error) {
    await writer.abort(error);
    throw error;
  }
}

async function get(transport: Transport, location: Location, range: { start?: number; end?: number } = {}): Promise<Buffer> {
  return Buffer.concat(await (await transport.read(location, range)).toArray());
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe.skipIf(servers.skip !== undefined)(`sftpTransport against OpenSSH${servers.skip ? ` (skipped: ${servers.skip})` : ''}`, () => {
  const transport = sftpTransport({ knownHosts: servers.knownHosts, agent: false, privateKeyPath: [], retryDelayMs: 50 });
  let directory = '';
  beforeAll(() => {
    directory = servers.skip === undefined ? makeUserDirectory(servers, 'specifics') : '';
  });
  afterAll(() => removeScratchDirs());

  it('writes to a temporary name beside the target, renamed over an existing file on commit', async () => {
    const location = urlLocation(`${serverUrl(servers)}${directory}/renamed.tar`);
    writeFileSync(path.join(directory, 'renamed.tar'), 'old');
    const writer = await transport.write(location);
    writer.stream.end(Buffer.from('new archive bytes'));
    await finished(writer.stream);
    const during = readdirSync(directory).filter((name) => name.includes('renamed.tar')).sort();
    expect(during).toHaveLength(2);
    expect(during[0]).toMatch(/^\.renamed\.tar\.bentoport-[0-9a-f]{8}-[0-9a-z]+-[0-9a-f]{12}\.tmp$/);
    expect(readFileSync(path.join(directory, 'renamed.tar'), 'utf8')).toBe('old');
    await writer.commit();
    expect(readdirSync(directory).filter((name) => name.includes('renamed.tar'))).toEqual(['renamed.tar']);
    expect(readFileSync(path.join(directory, 'renamed.tar'), 'utf8')).toBe('new archive bytes');
  });

  it('writes chunks of every size in order: tar headers, small files, chunks that straddle requests', async () => {
    // 512-byte headers put the stream off the 64 KiB request grid; a 1 MiB chunk then spans
    // several requests and the last one straddles into the next chunk.
    const sizes = [512, 1 * MiB, 512, 5, 70_000, 65_536, 4, 1 * MiB + 4096, 511, 200_000];
    const chunks = sizes.map((size, index) => seeded(size, index + 1));
    const location = urlLocation(`${serverUrl(servers)}${directory}/straddled.tar`);
    const writer = await transport.write(location);
    for (const chunk of chunks) {
      if (!writer.stream.write(chunk)) await new Promise((resolve) => writer.stream.once('drain', resolve));
    }
    writer.stream.end();
    await finished(writer.stream);
    await writer.commit();
    expect(sha256(readFileSync(path.join(directory, 'straddled.tar')))).toBe(sha256(Buffer.concat(chunks)));
  });

  it('removes the temporary file on abort', async () => {
    const writer = await transport.write(urlLocation(`${serverUrl(servers)}${directory}/aborted.tar`));
    writer.stream.write(Buffer.alloc(300_000, 7));
    await sleep(100);
    await writer.abort(new Error('export failed'));
    expect(readdirSync(directory).filter((name) => name.includes('aborted.tar'))).toEqual([]);
  });

  it('creates missing parent directories (mkdir -p)', async () => {
    await put(transport, urlLocation(`${serverUrl(servers)}${directory}/a/b/c/x.tar`), Buffer.from('deep'));
    expect(readFileSync(path.join(directory, 'a/b/c/x.tar'), 'utf8')).toBe('deep');
  });

  it('logs in with an unencrypted private key, and with the ssh-agent', async () => {
    const location = urlLocation(`${serverUrl(servers, { password: false })}${directory}/key.bin`);
    const withKey = sftpTransport({ knownHosts: servers.knownHosts, agent: false, privateKeyPath: servers.clientKey, netrc: false });
    await put(withKey, location, Buffer.from('by key'));
    const scratch = await makeScratchDir('agent');
    const socket = path.join(scratch, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      for (let attempt = 0; attempt < 50 && !existsSync(socket); attempt++) await sleep(50);
      execFileSync('ssh-add', [servers.clientKey], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
      const withAgent = sftpTransport({ knownHosts: servers.knownHosts, privateKeyPath: [], netrc: false, env: { SSH_AUTH_SOCK: socket } });
      expect((await get(withAgent, location)).toString()).toBe('by key');
    } finally {
      agent.kill();
    }
  });

  it('refuses a wrong password with ERR_AUTH, password redacted', async () => {
    const location = urlLocation(`${serverUrl(servers, { password: 'wrong-secret' })}${directory}/x.tar`);
    const error = await transport.write(location).catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_AUTH')).toBe(true);
    const message = (error as Error).message;
    expect(message).toMatch(new RegExp(`^\\[transport-sftp\\] WRITE sftp://${servers.user}:\\*\\*\\*@127\\.0\\.0\\.1:${servers.port}/.*/x\\.tar: `));
    expect(message).not.toContain('wrong-secret');
    expect(String((error as Error).stack)).not.toContain('wrong-secret');
  });

  it('refuses a wrong key passphrase with ERR_INVALID_OPTION', async () => {
    const wrong = sftpTransport({ knownHosts: servers.knownHosts, agent: false, privateKeyPath: servers.encryptedClientKey, passphrase: 'not it', retries: 0 });
    const error = await wrong.stat(urlLocation(`${serverUrl(servers, { password: false })}${directory}`)).catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).not.toContain('not it');
  });

  it('refuses an unknown host key with ERR_AUTH naming its fingerprint, and accepts that fingerprint when given', async () => {
    const scratch = await makeScratchDir('known-hosts');
    const empty = path.join(scratch, 'known_hosts');
    writeFileSync(empty, '');
    const location = urlLocation(`${serverUrl(servers)}${directory}`);
    const strict = sftpTransport({ knownHosts: empty, agent: false, privateKeyPath: [], retries: 0 });
    const error = await strict.stat(location).catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_AUTH')).toBe(true);
    expect((error as Error).message).toContain(`the host key ${servers.hostFingerprint} of [127.0.0.1]:${servers.port} is not known`);
    expect((error as Error).message).not.toContain(servers.password);
    const pinned = sftpTransport({ knownHosts: empty, hostKeyFingerprint: servers.hostFingerprint, agent: false, privateKeyPath: [] });
    await expect(pinned.stat(location)).resolves.toMatchObject({ type: 'directory' });
  });

  it('refuses a changed host key with ERR_AUTH', async () => {
    const scratch = await makeScratchDir('changed-host');
    const other = path.join(scratch, 'other');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other], { stdio: 'ignore' });
    const [type, key] = readFileSync(`${other}.pub`, 'utf8').trim().split(/\s+/);
    const knownHosts = path.join(scratch, 'known_hosts');
    writeFileSync(knownHosts, `[127.0.0.1]:${servers.port} ${type} ${key}\n`);
    const strict = sftpTransport({ knownHosts, agent: false, privateKeyPath: [], retries: 0 });
    const error = await strict.stat(urlLocation(`${serverUrl(servers)}${directory}`)).catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_AUTH')).toBe(true);
    expect((error as Error).message).toContain(`CHANGED: the server presents ${servers.hostFingerprint}, but ${knownHosts}:1 holds another key`);
  });

  describe('a connection cut mid-transfer, through a counting proxy', () => {
    let proxy: CountingProxy;
    const size = 48 * MiB;
    // Made in beforeAll, not while vitest collects: without sshd there is no host key to pin,
    // and a skipped suite should not generate 48 MiB either.
    let data: Buffer;
    let cutTransport: ReturnType<typeof sftpTransport>;
    beforeAll(async () => {
      proxy = await startCountingProxy({ targetPort: servers.port });
      data = seeded(size, 7);
      // 16 requests of 64 KiB in flight: at most 1 MiB to send again after a cut.
      cutTransport = sftpTransport({ knownHosts: false, hostKeyFingerprint: servers.hostFingerprint, agent: false, privateKeyPath: [], concurrency: 16, retryDelayMs: 50 });
    });
    afterAll(() => proxy?.close());

    it('resumes an upload from the last acknowledged byte: re-sends under 5%, byte-identical', async () => {
      const location = urlLocation(`${serverUrl(servers, { port: proxy.port })}${directory}/cut-upload.bin`);
      proxy.reset();
      await put(cutTransport, location, data);
      const baseline = proxy.bytes;
      proxy.reset();
      proxy.cutAfter(20 * MiB);
      await put(cutTransport, location, data);
      expect(proxy.cuts).toBe(1);
      expect(proxy.bytes - baseline).toBeLessThan(0.05 * size);
      expect(sha256(readFileSync(path.join(directory, 'cut-upload.bin')))).toBe(sha256(data));
    });

    it('resumes a download from the last byte handed out: re-sends under 5%, byte-identical', async () => {
      writeFileSync(path.join(directory, 'cut-download.bin'), data);
      const location = urlLocation(`${serverUrl(servers, { port: proxy.port })}${directory}/cut-download.bin`);
      proxy.reset();
      await get(cutTransport, location);
      const baseline = proxy.bytes;
      proxy.reset();
      proxy.cutAfter(20 * MiB);
      const received = await get(cutTransport, location);
      expect(proxy.cuts).toBe(1);
      expect(proxy.bytes - baseline).toBeLessThan(0.05 * size);
      expect(sha256(received)).toBe(sha256(data));
    });
  });

  it('exports a bento with createBentoport and imports it back, identical, checksum file included', async () => {
    const source = await makeScratchDir('sftp-source');
    const target = await makeScratchDir('sftp-target');
    const sample = await writeSampleBento(source, { models: 2, weightsBytes: 2 * MiB });
    const exporter = createBentoport({ home: source, formats: [tarFormat()], transports: [transport] });
    const exported = await exporter.exportBento(sample.bentoTag, `${serverUrl(servers)}${directory}/exports/`, 'gz', { checksumFile: true });
    expect(exported.destination).not.toContain(servers.password);
    const name = path.posix.basename(exported.destination);
    expect(existsSync(path.join(directory, 'exports', `${name}.sha256`))).toBe(true);
    const importer = createBentoport({ home: target, formats: [tarFormat()], transports: [transport] });
    const imported = await importer.importBento(`${serverUrl(servers)}${directory}/exports/${name}`);
    expect(imported.sha256).toBe(exported.sha256);
    expect(await hashTree(imported.item.path)).toEqual(await hashTree(sample.bentoPath));
  });
});

describe('sftpTransport options', () => {
  it('refuses the option names of earlier releases instead of dropping their settings', () => {
    for (const [old, replacement] of [['keepaliveInterval', 'keepaliveIntervalMs'], ['idleMilliseconds', 'connectionIdleMs'], ['retryDelay', 'retryDelayMs']] as const) {
      const message = `[transport-sftp] options.${old} was renamed: use ${replacement}`;
      expect(() => sftpTransport({ [old]: 1_000 } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message }));
    }
    expect(() => sftpTransport({ timeout: 20_000 } as never)).toThrow(/options\.timeout was renamed: use .*connectTimeoutMs/);
  });
});
