import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type { Location, TransportWriter } from '@bentoport/spec';
import { isBentoportError } from '@bentoport/spec';
import { runTransportSuite } from '@bentoport/transport-test-suite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RANGED_READ_BYTES } from './file-reader.js';
import { fsTransport } from './fs-transport.js';

function fileLocation(filePath: string): Location {
  return { protocol: 'file', host: '', path: filePath, query: '', display: filePath };
}

let suiteRoot = '';
runTransportSuite({
  name: 'transport-fs',
  transport: fsTransport(),
  setup: async () => {
    suiteRoot = await mkdtemp(path.join(tmpdir(), 'bentoport-transport-fs-suite-'));
  },
  teardown: () => rm(suiteRoot, { recursive: true, force: true }),
  location: (relativePath) => fileLocation(path.join(suiteRoot, relativePath)),
});

describe('fsTransport specifics', () => {
  const transport = fsTransport();
  let root = '';
  let counter = 0;
  /** A fresh directory per test, so directory listings are not shared. */
  const freshDirectory = async (): Promise<string> => {
    const directory = path.join(root, `case-${++counter}`);
    await mkdir(directory);
    return directory;
  };
  const temporaryNames = (names: string[], target: string): string[] =>
    names.filter((name) => new RegExp(`^\\.${target.replace('.', '\\.')}\\.bentoport-[0-9a-f]{8}-[0-9a-z]+-[0-9a-f]{12}\\.tmp$`).test(name));

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'bentoport-transport-fs-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function endAndWait(writer: TransportWriter, data: string): Promise<void> {
    writer.stream.end(Buffer.from(data));
    await finished(writer.stream);
  }

  it('writes to a temporary file beside the target, renamed on commit', async () => {
    const directory = await freshDirectory();
    const writer = await transport.write(fileLocation(path.join(directory, 'iris.bento')));
    await endAndWait(writer, 'archive bytes');
    const during = await readdir(directory);
    expect(during).toHaveLength(1);
    expect(temporaryNames(during, 'iris.bento')).toEqual(during);
    await writer.commit();
    expect(await readdir(directory)).toEqual(['iris.bento']);
    expect(await readFile(path.join(directory, 'iris.bento'), 'utf8')).toBe('archive bytes');
  });

  it('removes the temporary file on abort', async () => {
    const directory = await freshDirectory();
    const writer = await transport.write(fileLocation(path.join(directory, 'iris.bento')));
    writer.stream.write(Buffer.alloc(100_000));
    expect(temporaryNames(await readdir(directory), 'iris.bento')).toHaveLength(1);
    await writer.abort(new Error('export failed'));
    expect(await readdir(directory)).toEqual([]);
  });

  it('keeps the temporary name under 256 bytes for a long target name', async () => {
    const directory = await freshDirectory();
    const name = `${'b'.repeat(250)}.bento`.slice(0, 255);
    const writer = await transport.write(fileLocation(path.join(directory, name)));
    await endAndWait(writer, 'x');
    const [temporary] = await readdir(directory);
    expect(temporary!.length).toBeLessThan(256);
    await writer.commit();
    expect(await readdir(directory)).toEqual([name]);
  });

  it('does not create a missing parent: ERR_NOT_FOUND naming the parent', async () => {
    const parent = path.join(root, 'no-such-directory');
    const location = fileLocation(path.join(parent, 'iris.bento'));
    const error = await transport.write(location).catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_NOT_FOUND')).toBe(true);
    expect((error as Error).message).toBe(`[transport-fs] WRITE ${location.display}: parent directory ${parent} does not exist`);
    await expect(stat(parent)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses to write onto a directory with ERR_INVALID_TARGET', async () => {
    const directory = await freshDirectory();
    await mkdir(path.join(directory, 'taken'));
    await expect(transport.write(fileLocation(path.join(directory, 'taken')))).rejects.toMatchObject({ code: 'ERR_INVALID_TARGET' });
    expect(await readdir(directory)).toEqual(['taken']);
  });

  it('refuses a parent that is a file with ERR_INVALID_TARGET', async () => {
    const directory = await freshDirectory();
    await writeFile(path.join(directory, 'file'), 'x');
    await expect(transport.write(fileLocation(path.join(directory, 'file', 'child')))).rejects.toMatchObject({ code: 'ERR_INVALID_TARGET' });
  });

  it('refuses to read a directory with ERR_INVALID_TARGET', async () => {
    const directory = await freshDirectory();
    await expect(transport.read(fileLocation(directory))).rejects.toMatchObject({ code: 'ERR_INVALID_TARGET' });
  });

  it('reports a missing file as ERR_NOT_FOUND with the operation and location in the message', async () => {
    const location = fileLocation(path.join(root, 'missing.bento'));
    await expect(transport.stat(location)).rejects.toMatchObject({
      code: 'ERR_NOT_FOUND',
      message: expect.stringMatching(new RegExp(`^\\[transport-fs\\] STAT ${location.display.replace(/[.\\]/g, '\\$&')}: `)),
    });
    await expect(transport.read(location)).rejects.toMatchObject({ message: expect.stringContaining('[transport-fs] READ ') });
    await expect(transport.delete!(location)).rejects.toMatchObject({ message: expect.stringContaining('[transport-fs] DELETE ') });
  });

  it('refuses another protocol and a relative path', async () => {
    const s3 = { ...fileLocation('/bucket/key'), protocol: 's3' };
    await expect(transport.stat(s3)).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_PROTOCOL' });
    await expect(transport.stat(fileLocation('relative/path'))).rejects.toMatchObject({ code: 'ERR_INVALID_TARGET' });
  });

  it('stats and lists directories', async () => {
    const directory = await freshDirectory();
    await mkdir(path.join(directory, 'sub'));
    await writeFile(path.join(directory, 'a.bento'), 'abc');
    await expect(transport.stat(fileLocation(directory))).resolves.toMatchObject({ type: 'directory', size: 0 });
    await expect(transport.list!(fileLocation(directory))).resolves.toEqual([
      { name: 'a.bento', type: 'file', size: 3 },
      { name: 'sub', type: 'directory', size: 0 },
    ]);
    await expect(transport.list!(fileLocation(path.join(directory, 'a.bento')))).rejects.toMatchObject({ code: 'ERR_INVALID_TARGET' });
    await expect(transport.delete!(fileLocation(path.join(directory, 'sub')))).rejects.toMatchObject({ code: 'ERR_INVALID_TARGET' });
  });

  it('treats calls after commit or abort as no-ops or ERR_ABORTED', async () => {
    const directory = await freshDirectory();
    const target = path.join(directory, 'twice.bento');
    const committed = await transport.write(fileLocation(target));
    await endAndWait(committed, 'kept');
    await committed.commit();
    await committed.commit();
    await committed.abort();
    expect(await readFile(target, 'utf8')).toBe('kept');

    const aborted = await transport.write(fileLocation(path.join(directory, 'dropped.bento')));
    await aborted.abort();
    await aborted.abort();
    await expect(aborted.commit()).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(await readdir(directory)).toEqual(['twice.bento']);
  });

  it('refuses commit before stream.end() with a TypeError and stays abortable', async () => {
    const directory = await freshDirectory();
    const writer = await transport.write(fileLocation(path.join(directory, 'early.bento')));
    await expect(writer.commit()).rejects.toBeInstanceOf(TypeError);
    await writer.abort();
    expect(await readdir(directory)).toEqual([]);
  });

  it.skipIf(process.platform === 'win32')('creates files with the mode 0o666 masked by the umask, like any new file', async () => {
    const directory = await freshDirectory();
    const target = path.join(directory, 'mode.bento');
    const writer = await transport.write(fileLocation(target));
    await endAndWait(writer, 'x');
    await writer.commit();
    const umask = process.umask();
    expect((await stat(target)).mode & 0o777).toBe(0o666 & ~umask);
  });

  it('works with fsync off', async () => {
    const directory = await freshDirectory();
    const target = path.join(directory, 'nosync.bento');
    const writer = await fsTransport({ fsync: false }).write(fileLocation(target));
    await endAndWait(writer, 'fast');
    await writer.commit();
    expect(await readFile(target, 'utf8')).toBe('fast');
  });

  it('reads a whole file in highWaterMark chunks and a ranged read in chunks of at most RANGED_READ_BYTES', async () => {
    const target = path.join(await freshDirectory(), 'weights.bin');
    const data = Buffer.alloc(3 * 1024 * 1024 + 5, 7);
    await writeFile(target, data);
    const chunkSizes = async (stream: AsyncIterable<Buffer>): Promise<number[]> => {
      const sizes: number[] = [];
      for await (const chunk of stream) sizes.push(chunk.length);
      return sizes;
    };
    const whole = await chunkSizes(await transport.read(fileLocation(target)));
    expect(Math.max(...whole)).toBe(1024 * 1024);
    expect(whole.reduce((sum, size) => sum + size, 0)).toBe(data.length);
    const ranged = await chunkSizes(await transport.read(fileLocation(target), { start: 5, end: data.length }));
    expect(RANGED_READ_BYTES).toBe(256 * 1024);
    expect(Math.max(...ranged)).toBe(RANGED_READ_BYTES);
    expect(ranged.reduce((sum, size) => sum + size, 0)).toBe(data.length - 5);
    const small = await chunkSizes(await fsTransport({ highWaterMark: 64 * 1024 }).read(fileLocation(target), { start: 0, end: 200_000 }));
    expect(small).toEqual([65536, 65536, 65536, 3392]);
  });

  it('validates its options', () => {
    expect(() => fsTransport({ highWaterMark: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(() => fsTransport({ fsync: 'yes' as unknown as boolean })).toThrow(TypeError);
  });
});
