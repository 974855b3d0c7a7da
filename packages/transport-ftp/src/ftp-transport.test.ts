import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { createBentoport, isBentoportError, type Location, type Transport } from '@bentoport/core';
import { tarFormat } from '@bentoport/format-tar';
import { hashTree, makeScratchDir, removeScratchDirs, writeSampleBento } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ftpTransport } from './ftp-transport.js';
import { startFtpCuttingProxy, type FtpCuttingProxy } from './test-support/ftp-cutting-proxy.js';
import { makeUserDirectory, serverUrl, urlLocation } from './test-support/locations.js';

const servers = inject('ftp');
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

describe.skipIf(servers.skip !== undefined)(`ftpTransport against vsftpd${servers.skip ? ` (skipped: ${servers.skip})` : ''}`, () => {
  const transport = ftpTransport({ ca: servers.certificate, retryDelayMs: 50 });
  let directory = '';
  beforeAll(() => {
    directory = servers.skip === undefined ? makeUserDirectory(servers, 'specifics') : '';
  });
  afterAll(() => removeScratchDirs());

  it('uploads to a temporary name beside the target and renames it on commit', async () => {
    const location = urlLocation(`${serverUrl(servers, 'plain')}${directory}/renamed.tar`);
    const writer = await transport.write(location);
    writer.stream.end(Buffer.from('archive bytes'));
    await finished(writer.stream);
    const during = readdirSync(directory).filter((name) => name.includes('renamed.tar'));
    expect(during).toHaveLength(1);
    expect(during[0]).toMatch(/^\.renamed\.tar\.bentoport-[0-9a-f]{8}-[0-9a-z]+-[0-9a-f]{12}\.tmp$/);
    await writer.commit();
    expect(readdirSync(directory).filter((name) => name.includes('renamed.tar'))).toEqual(['renamed.tar']);
    expect(readFileSync(path.join(directory, 'renamed.tar'), 'utf8')).toBe('archive bytes');
  });

  it('opens many writers into one missing directory tree at once (each creates the parents it lacks)', async () => {
    // Several transfers of one sync race to create the same parents; a lost MKD race is no failure.
    const writers = await Promise.all(
      Array.from({ length: 12 }, (_, index) => transport.write(urlLocation(`${serverUrl(servers, 'plain')}${directory}/racing/shared/item-${index}.tar`))),
    );
    for (const writer of writers) writer.stream.end(Buffer.from('x'));
    await Promise.all(writers.map(async (writer) => (await finished(writer.stream), writer.commit())));
    expect(readdirSync(path.join(directory, 'racing', 'shared')).sort()).toEqual(Array.from({ length: 12 }, (_, index) => `item-${index}.tar`).sort());
  });

  it('deletes the temporary file on abort', async () => {
    const location = urlLocation(`${serverUrl(servers, 'plain')}${directory}/aborted.tar`);
    const writer = await transport.write(location);
    writer.stream.write(Buffer.alloc(300_000, 7));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await writer.abort(new Error('export failed'));
    expect(readdirSync(directory).filter((name) => name.includes('aborted.tar'))).toEqual([]);
  });

  it('creates missing parent directories', async () => {
    const location = urlLocation(`${serverUrl(servers, 'plain')}${directory}/new/deeper/x.tar`);
    await put(transport, location, Buffer.from('deep'));
    expect(readFileSync(path.join(directory, 'new/deeper/x.tar'), 'utf8')).toBe('deep');
  });

  it('writes and reads over implicit TLS (ftps://) with the CA option', async () => {
    const location = urlLocation(`${serverUrl(servers, 'implicit')}${directory}/implicit.bin`);
    const data = seeded(3 * MiB + 5, 3);
    await put(transport, location, data);
    expect(sha256(await get(transport, location))).toBe(sha256(data));
    expect(sha256(await get(transport, location, { start: MiB, end: MiB + 10 }))).toBe(sha256(data.subarray(MiB, MiB + 10)));
  });

  it('refuses a wrong password with ERR_AUTH, naming the command and target, password redacted', async () => {
    const url = `${serverUrl(servers, 'plain', undefined, 'wrong-secret')}${directory}/x.tar`;
    const location = urlLocation(url);
    const error = await transport.write(location).catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_AUTH')).toBe(true);
    const message = (error as Error).message;
    expect(message).toBe(`[transport-ftp] STOR ftp://${servers.user}:***@127.0.0.1:${servers.plainPort}${directory}/x.tar: 530 Login incorrect.`);
    expect(message).not.toContain('wrong-secret');
    expect(String((error as Error).stack)).not.toContain('wrong-secret');
  });

  it('fails certificate verification against the self-signed certificate without the ca option', async () => {
    const strict = ftpTransport({ retries: 0 });
    for (const url of [`${serverUrl(servers, 'explicit')}${directory}/x.tar?tls=explicit`, `${serverUrl(servers, 'implicit')}${directory}/x.tar`]) {
      const error = await strict.stat(urlLocation(url)).catch((caught: unknown) => caught);
      expect(isBentoportError(error, 'ERR_AUTH')).toBe(true);
      expect((error as Error).message).toMatch(/TLS certificate was not verified \((DEPTH_ZERO_SELF_SIGNED_CERT: )?self[- ]signed certificate.*\); trust its CA with the `ca` option$/);
      expect((error as Error).message).not.toContain(servers.password);
    }
  });

  it('refuses a plain login where the server demands TLS', async () => {
    const location = urlLocation(`${serverUrl(servers, 'explicit')}${directory}/x.tar`);
    await expect(transport.stat(location)).rejects.toMatchObject({ code: 'ERR_AUTH', message: expect.stringContaining('530') });
  });

  it('takes the login from $NETRC when the URL has none', async () => {
    const scratch = await makeScratchDir('netrc');
    const netrc = path.join(scratch, 'netrc');
    writeFileSync(netrc, `machine 127.0.0.1\n  login ${servers.user}\n  password "${servers.password}"\n`);
    const withNetrc = ftpTransport({ env: { NETRC: netrc } });
    const location = urlLocation(`ftp://127.0.0.1:${servers.plainPort}${directory}/netrc.txt`);
    await put(withNetrc, location, Buffer.from('from netrc'));
    expect((await get(withNetrc, location)).toString()).toBe('from netrc');
    await expect(ftpTransport({ env: { NETRC: path.join(scratch, 'missing') }, retries: 0 }).stat(location)).rejects.toMatchObject({ code: 'ERR_AUTH' });
  });

  it('reads `/~/` paths from the login directory and refuses unknown URL parameters', async () => {
    await expect(transport.stat(urlLocation(`${serverUrl(servers, 'plain')}/~/`))).resolves.toMatchObject({ type: 'directory' });
    await expect(transport.stat(urlLocation(`${serverUrl(servers, 'plain')}/x?passive=no`))).rejects.toMatchObject({ code: 'ERR_INVALID_TARGET' });
  });

  describe('a connection cut mid-transfer, through a counting proxy', () => {
    let proxy: FtpCuttingProxy;
    beforeAll(async () => {
      proxy = await startFtpCuttingProxy(servers.plainPort);
    });
    afterAll(() => proxy.close());
    const size = 32 * MiB;
    const data = seeded(size, 42);

    it('resumes an upload with REST + STOR, re-sending under 5% of the bytes, byte-identical', async () => {
      const location = urlLocation(`${serverUrl(servers, 'plain', proxy.port)}${directory}/cut-upload.bin`);
      proxy.reset();
      proxy.cutAfter(13 * MiB);
      await put(transport, location, data);
      expect(proxy.cuts).toBe(1);
      const resent = proxy.dataBytes - size;
      expect(resent).toBeGreaterThanOrEqual(0);
      expect(resent).toBeLessThan(0.05 * size);
      expect(sha256(readFileSync(path.join(directory, 'cut-upload.bin')))).toBe(sha256(data));
    });

    it('resumes a download with REST + RETR from near the cut, byte-identical', async () => {
      writeFileSync(path.join(directory, 'cut-download.bin'), data);
      const location = urlLocation(`${serverUrl(servers, 'plain', proxy.port)}${directory}/cut-download.bin`);
      proxy.reset();
      proxy.cutAfter(24 * MiB);
      const received = await get(transport, location);
      expect(proxy.cuts).toBe(1);
      // A restart would send the first 24 MiB again. A resume re-sends only what was in flight at
      // the cut: when the server's 426 reply beats the data socket, basic-ftp drops what that
      // socket still held, up to the loopback socket buffers (2.6 MiB seen on a busy machine).
      expect(proxy.dataBytes - size).toBeLessThan(8 * MiB);
      expect(sha256(received)).toBe(sha256(data));
    });

    it('gives up with ERR_IO once retries are spent', async () => {
      const location = urlLocation(`${serverUrl(servers, 'plain', proxy.port)}${directory}/cut-download.bin`);
      const noRetries = ftpTransport({ retries: 0 });
      proxy.reset();
      proxy.cutAfter(MiB);
      const stream = await noRetries.read(location);
      const error = await stream.toArray().catch((caught: unknown) => caught);
      expect(isBentoportError(error, 'ERR_IO')).toBe(true);
      expect((error as Error).message).toMatch(/^\[transport-ftp\] RETR ftp:\/\/bentoport-ftp:\*\*\*@127\.0\.0\.1:\d+\/.*cut-download\.bin: /);
    });
  });

  it('exports a bento with createBentoport and imports it back, identical, checksum file included', async () => {
    const source = await makeScratchDir('ftp-source');
    const target = await makeScratchDir('ftp-target');
    const sample = await writeSampleBento(source, { models: 2, weightsBytes: 2 * MiB });
    const exporter = createBentoport({ home: source, formats: [tarFormat()], transports: [transport] });
    const exported = await exporter.exportBento(sample.bentoTag, `${serverUrl(servers, 'explicit')}${directory}/exports/bento.tar.gz?tls=explicit`, undefined, {
      checksumFile: true,
    });
    expect(exported.destination).not.toContain(servers.password);
    expect(existsSync(path.join(directory, 'exports', 'bento.tar.gz.sha256'))).toBe(true);
    const importer = createBentoport({ home: target, formats: [tarFormat()], transports: [transport] });
    const imported = await importer.importBento(`${serverUrl(servers, 'explicit')}${directory}/exports/bento.tar.gz?tls=explicit`);
    expect(imported.sha256).toBe(exported.sha256);
    expect(await hashTree(imported.item.path)).toEqual(await hashTree(sample.bentoPath));
  });
});

describe('ftpTransport options', () => {
  it('refuses the option names of earlier releases instead of dropping their settings', () => {
    expect(() => ftpTransport({ idle: { connections: 1 } } as never)).toThrow(
      '[transport-ftp] options.idle was renamed: use maxIdleConnections (idle.connections) and connectionIdleMs (idle.milliseconds)',
    );
    expect(() => ftpTransport({ timeout: 5_000 } as never)).toThrow(/^\[transport-ftp\] options\.timeout was renamed: use timeoutMs/);
    expect(() => ftpTransport({ retryDelay: 5 } as never)).toThrow('[transport-ftp] options.retryDelay was renamed: use retryDelayMs');
  });
});
