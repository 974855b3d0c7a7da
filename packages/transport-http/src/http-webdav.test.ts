import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { describe, expect, inject, it } from 'vitest';
import { httpTransport } from './http-transport.js';
import { logLinesSince, logSize, putBytes, readAll } from './test-support/helpers.js';
import { httpLocation, uniqueName } from './test-support/locations.js';

const servers = inject('http');

describe.skipIf(servers.skip !== undefined)('transport-http against nginx WebDAV', () => {
  const dav = (pathName: string) => httpLocation('http', `127.0.0.1:${servers.davPort}`, pathName);
  const plain = (pathName: string) => httpLocation('http', `127.0.0.1:${servers.plainPort}`, pathName);

  it('uploads to a temporary sibling and MOVEs it over the target on commit', async () => {
    const directory = uniqueName('move');
    mkdirSync(path.join(servers.davRoot, directory));
    const transport = httpTransport();
    const before = logSize(servers.accessLog);
    const writer = await transport.write(dav(`/${directory}/iris.tar.gz`));
    writer.stream.end(Buffer.from('archive bytes'));
    await finished(writer.stream);
    // nginx has the whole body once the PUT is answered; until commit it sits under the temp name.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const during = readdirSync(path.join(servers.davRoot, directory));
    expect(during).toHaveLength(1);
    expect(during[0]).toMatch(/^\.iris\.tar\.gz\.bentoport-[0-9a-f]{8}-[0-9a-z]+-[0-9a-f]{12}\.tmp$/);
    await writer.commit();
    expect(readdirSync(path.join(servers.davRoot, directory))).toEqual(['iris.tar.gz']);
    expect(readFileSync(path.join(servers.davRoot, directory, 'iris.tar.gz'), 'utf8')).toBe('archive bytes');
    const methods = (await logLinesSince(servers.accessLog, before, 4, `/${directory}/`)).map((line) => /"(\w+) /.exec(line)?.[1]);
    expect(methods).toEqual(['OPTIONS', 'MKCOL', 'PUT', 'MOVE']);
  });

  it('creates missing parent collections with MKCOL', async () => {
    const directory = uniqueName('mkcol');
    const transport = httpTransport();
    await putBytes(transport, dav(`/${directory}/a/b/c/model.zip`), Buffer.from('deep'));
    expect(readFileSync(path.join(servers.davRoot, directory, 'a/b/c/model.zip'), 'utf8')).toBe('deep');
  });

  it('lists a collection with PROPFIND: files with sizes, sub-collections, names decoded', async () => {
    const directory = uniqueName('list');
    mkdirSync(path.join(servers.davRoot, directory, 'sub dir'), { recursive: true });
    writeFileSync(path.join(servers.davRoot, directory, 'a&b.bento'), 'abc');
    const transport = httpTransport();
    await expect(transport.list!(dav(`/${directory}`))).resolves.toEqual([
      { name: 'a&b.bento', type: 'file', size: 3 },
      { name: 'sub dir', type: 'directory', size: 0 },
    ]);
    await expect(transport.stat(dav(`/${directory}/sub%20dir`))).resolves.toMatchObject({ type: 'directory' });
    await expect(transport.stat(dav(`/${directory}`))).resolves.toMatchObject({ type: 'directory', size: 0 });
  });

  it('falls back to a plain PUT on a server without WebDAV, still invisible until commit', async () => {
    const directory = uniqueName('auto');
    const transport = httpTransport();
    const location = plain(`/${directory}/iris.tar`);
    const before = logSize(servers.accessLog);
    const writer = await transport.write(location);
    writer.stream.write(Buffer.alloc(300_000, 1));
    writer.stream.end(Buffer.alloc(1000, 2));
    await finished(writer.stream);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(existsSync(path.join(servers.plainRoot, directory, 'iris.tar'))).toBe(false);
    await expect(transport.stat(location)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    await writer.commit();
    expect(readFileSync(path.join(servers.plainRoot, directory, 'iris.tar')).length).toBe(301_000);
    const lines = await logLinesSince(servers.accessLog, before, 3, `/${directory}/`);
    expect(lines.some((line) => line.includes('"OPTIONS ') && line.includes('" 405 '))).toBe(true);
    expect(lines.some((line) => line.includes('"MOVE '))).toBe(false);
  });

  it('abort of a plain PUT stores nothing', async () => {
    const directory = uniqueName('plain-abort');
    const transport = httpTransport({ webdav: false });
    const writer = await transport.write(plain(`/${directory}/gone.bin`));
    writer.stream.on('error', () => {});
    writer.stream.write(Buffer.alloc(500_000, 3));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await writer.abort(new Error('export failed'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(existsSync(path.join(servers.plainRoot, directory, 'gone.bin'))).toBe(false);
  });

  it('says listing needs WebDAV on a server without PROPFIND', async () => {
    await expect(httpTransport().list!(plain('/'))).rejects.toMatchObject({ code: 'ERR_IO', message: expect.stringContaining('WebDAV PROPFIND') });
    expect(httpTransport({ webdav: false }).list).toBeUndefined();
    expect(httpTransport({ webdav: false }).capabilities.list).toBe(false);
  });

  it('reads back what it wrote, also in ranges pinned to the version first seen', async () => {
    const directory = uniqueName('pinned');
    mkdirSync(path.join(servers.davRoot, directory));
    const transport = httpTransport();
    const location = dav(`/${directory}/data.bin`);
    await putBytes(transport, location, Buffer.from('0123456789'));
    await transport.stat(location);
    expect((await readAll(await transport.read(location, { start: 2, end: 5 }))).toString()).toBe('234');
    // Replaced behind the transport's back: a ranged read of the old version must not mix in the new one.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    writeFileSync(path.join(servers.davRoot, directory, 'data.bin'), 'abcdefghijk');
    await expect(transport.read(location, { start: 2, end: 5 })).rejects.toMatchObject({ code: 'ERR_CORRUPT_ARCHIVE' });
    // A whole read (a new import) sees the new version and pins that.
    expect((await readAll(await transport.read(location))).toString()).toBe('abcdefghijk');
    expect((await readAll(await transport.read(location, { start: 2, end: 5 }))).toString()).toBe('cde');
  });
});
