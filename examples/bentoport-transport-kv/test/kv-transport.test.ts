/**
 * The kv transport's tests, as a third-party plugin would write them: the published conformance
 * suite in a few lines, then what is particular to this transport. They import the package by
 * its name, so they test the built dist exactly as users get it (build first).
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isBentoportError, type Location, type Transport } from '@bentoport/spec';
import { runTransportSuite } from '@bentoport/transport-test-suite';
import { kvTransport } from 'bentoport-transport-kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The factory runs while vitest collects the tests, before any hook: the root is named now and
// created in setup.
const root = path.join(tmpdir(), `bentoport-transport-kv-${process.pid}-${Date.now()}`);
afterAll(() => rm(root, { recursive: true, force: true }));

function kv(bucket: string, key: string): Location {
  return { protocol: 'kv', host: bucket, path: key === '' ? '' : `/${key}`, query: '', display: `kv://${bucket}/${key}` };
}

runTransportSuite({
  name: 'transport-kv',
  transport: () => kvTransport({ root }),
  setup: () => mkdir(root, { recursive: true }).then(() => undefined),
  location: (relativePath) => kv('conformance', relativePath),
});

async function put(transport: Transport, location: Location, text: string): Promise<void> {
  const writer = await transport.write(location);
  writer.stream.end(text);
  await writer.commit();
}

async function codeOf(action: () => unknown): Promise<string | undefined> {
  try {
    await action();
  } catch (error) {
    if (isBentoportError(error)) return error.code;
    return (error as Error).name;
  }
  return undefined;
}

describe('kvTransport specifics', () => {
  const transport = kvTransport({ root });
  beforeAll(() => mkdir(root, { recursive: true }));

  it('left no upload behind in the conformance bucket (the suite cannot see them: list hides uploads)', async () => {
    const names = await readdir(path.join(root, 'conformance'));
    expect(names.filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('keeps each object in one flat file: a "directory" is only a key prefix', async () => {
    await put(transport, kv('flat', 'models/iris/v1.bento'), 'weights');
    await put(transport, kv('flat', 'models/readme.txt'), 'hello');
    expect(await readdir(path.join(root, 'flat'))).toEqual(['models%2Firis%2Fv1.bento', 'models%2Freadme.txt']);
    expect(await transport.list!(kv('flat', 'models'))).toEqual([
      { name: 'readme.txt', type: 'file', size: 5 },
      { name: 'iris', type: 'directory', size: 0 },
    ]);
    expect(await transport.stat(kv('flat', 'models/iris'))).toEqual({ type: 'directory', size: 0 });
    expect((await transport.stat(kv('flat', 'models/iris/v1.bento'))).size).toBe(7);
    await transport.delete!(kv('flat', 'models/iris/v1.bento'));
    expect(await codeOf(() => transport.stat(kv('flat', 'models/iris')))).toBe('ERR_NOT_FOUND');
  });

  it('takes the root from BENTOPORT_KV_ROOT when no option names it', async () => {
    const fromEnv = kvTransport({ env: { BENTOPORT_KV_ROOT: root } });
    await put(fromEnv, kv('from-env', 'x.bin'), 'x');
    expect(await readdir(path.join(root, 'from-env'))).toEqual(['x.bin']);
  });

  it('refuses to write into a store whose root does not exist, and creates a bucket on its first write', async () => {
    const missing = kvTransport({ root: path.join(root, 'no-such-root') });
    expect(await codeOf(() => missing.write(kv('bucket', 'x.bin')))).toBe('ERR_NOT_FOUND');
    await put(transport, kv('new-bucket', 'x.bin'), 'x');
    expect((await transport.stat(kv('new-bucket', ''))).type).toBe('directory');
  });

  it('refuses bad buckets, credentials, keyless writes and another protocol', async () => {
    expect(await codeOf(() => transport.stat(kv('Bad_Bucket', 'x')))).toBe('ERR_INVALID_TARGET');
    expect(await codeOf(() => transport.stat(kv('user:secret@bucket', 'x')))).toBe('ERR_INVALID_TARGET');
    expect(await codeOf(() => transport.write(kv('bucket', '')))).toBe('ERR_INVALID_TARGET');
    expect(await codeOf(() => transport.write(kv('bucket', 'dir/')))).toBe('ERR_INVALID_TARGET');
    expect(await codeOf(() => transport.read({ ...kv('bucket', 'x'), protocol: 's3' }))).toBe('ERR_UNSUPPORTED_PROTOCOL');
  });

  it('never lists an in-progress upload or a stray file as a key', async () => {
    const writer = await transport.write(kv('uploads', 'big.bin'));
    writer.stream.write('partial');
    expect(await transport.list!(kv('uploads', ''))).toEqual([]);
    await writer.abort();
    await writeFile(path.join(root, 'uploads', '.stray'), '');
    expect(await transport.list!(kv('uploads', ''))).toEqual([]);
  });

  it('checks its options', () => {
    expect(() => kvTransport({ env: {} })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('BENTOPORT_KV_ROOT') }));
    expect(() => kvTransport({ root, highWaterMark: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(() => kvTransport({ root: 3 as unknown as string })).toThrow(TypeError);
  });
});
