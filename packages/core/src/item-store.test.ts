import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isBentoportError } from '@bentoport/spec';
import { openItemStore } from './item-store.js';
import { formatTag } from './tag.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'bentoport-store-'));
});

const originalTz = process.env.TZ;
afterEach(() => {
  process.env.TZ = originalTz;
});

async function writeBento(name: string, version: string, creationTime: string, extra = '') {
  const directory = path.join(home, 'bentos', name, version);
  await mkdir(directory, { recursive: true });
  await writeFile(
    path.join(directory, 'bento.yaml'),
    `service: service:Svc\nname: ${name}\nversion: ${version}\ncreation_time: '${creationTime}'\n${extra}`,
  );
  return directory;
}

async function errorOf(promise: Promise<unknown>): Promise<Error & { code: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code: string };
  }
  throw new Error('expected an error');
}

describe('get and latest: version prefixes and the latest file, as BentoML resolves them', () => {
  for (const tz of ['UTC', 'Pacific/Kiritimati']) {
    it(`picks the newest creation_time as an instant under TZ=${tz}`, async () => {
      process.env.TZ = tz;
      await writeBento('svc', 'aaa', '2025-01-02T03:04:05.000002+00:00');
      await writeBento('svc', 'bbb', '2025-01-02T05:04:05+02:00'); // 03:04:05 UTC, earlier by 2 µs
      await writeBento('svc', 'ccc', '2025-01-02T03:04:05.000001'); // naive: taken as UTC
      const store = openItemStore(home, 'bento');
      expect(formatTag((await store.get('svc')).tag)).toBe('svc:aaa');
      expect(await readFile(path.join(home, 'bentos', 'svc', 'latest'), 'utf8')).toBe('aaa');
      expect(formatTag((await store.get('svc:latest')).tag)).toBe('svc:aaa');
    });
  }

  it('breaks ties deterministically (greatest version)', async () => {
    await writeBento('svc', 'b', '2025-01-02T03:04:05+00:00');
    await writeBento('svc', 'a', '2025-01-02T04:04:05+01:00');
    await writeBento('svc', 'c', '2025-01-02T03:04:05Z');
    expect(formatTag((await openItemStore(home, 'bento').get('svc')).tag)).toBe('svc:c');
  });

  it('follows an existing latest file, and recreates a stale one', async () => {
    await writeBento('svc', 'old', '2020-01-01T00:00:00+00:00');
    await writeBento('svc', 'new', '2025-01-01T00:00:00+00:00');
    await writeFile(path.join(home, 'bentos', 'svc', 'latest'), 'old\n');
    const store = openItemStore(home, 'bento');
    expect((await store.get('svc')).tag.version).toBe('old');
    await writeFile(path.join(home, 'bentos', 'svc', 'latest'), 'gone');
    expect((await store.get('svc')).tag.version).toBe('new');
    expect(await readFile(path.join(home, 'bentos', 'svc', 'latest'), 'utf8')).toBe('new');
  });

  it('resolves a unique version prefix, and reports ambiguity and absence in BentoML words', async () => {
    await writeBento('svc', 'abc1', '2025-01-01T00:00:00Z');
    await writeBento('svc', 'abc2', '2025-01-01T00:00:00Z');
    await writeBento('svc', 'xyz', '2025-01-01T00:00:00Z');
    const store = openItemStore(home, 'bento');
    expect((await store.get('svc:x')).tag.version).toBe('xyz');
    const ambiguous = await errorOf(store.get('svc:abc'));
    expect(ambiguous.code).toBe('ERR_AMBIGUOUS');
    expect(ambiguous.message).toBe('Multiple svc versions found: abc1, abc2');
    const missing = await errorOf(store.get('svc:q'));
    expect(missing.code).toBe('ERR_NOT_FOUND');
    expect(missing.message).toBe(
      `Bento 'svc:q' is not found in BentoML store ${path.join(home, 'bentos')}, you may need to run \`bentoml pull\` first`,
    );
    expect((await errorOf(openItemStore(home, 'model').get('m:v'))).message).toContain('`bentoml models pull`');
    expect((await errorOf(store.get('nothing'))).message).toBe(
      `no Bentos with name 'nothing' exist in BentoML store ${path.join(home, 'bentos')}`,
    );
  });
});

describe('list: by name, the newest version first, as BentoML lists', () => {
  it('lists all, by name, by tag, and name:latest (BentoML returns nothing there)', async () => {
    await writeBento('b', 'v2', '2025-01-02T00:00:00Z');
    await writeBento('b', 'v1', '2025-01-03T00:00:00Z');
    await writeBento('a', 'v1', '2025-01-01T00:00:00Z');
    await writeFile(path.join(home, 'bentos', '.DS_Store'), '');
    const store = openItemStore(home, 'bento');
    expect((await store.list()).map((item) => formatTag(item.tag))).toEqual(['a:v1', 'b:v1', 'b:v2']);
    expect((await store.list('b')).map((item) => item.tag.version)).toEqual(['v1', 'v2']);
    expect(await store.list('b:nope')).toEqual([]);
    expect((await store.list('b:latest')).map((item) => item.tag.version)).toEqual(['v1']);
    const error = await errorOf(store.list('zzz'));
    expect(error.message).toBe("no Bentos with name 'zzz' found");
  });

  it('skips a version directory without its yaml (BentoML may be writing it)', async () => {
    await writeBento('b', 'v1', '2025-01-02T00:00:00Z');
    await mkdir(path.join(home, 'bentos', 'b', 'half-written'), { recursive: true });
    expect((await openItemStore(home, 'bento').list()).map((item) => item.tag.version)).toEqual(['v1']);
  });
});

describe('delete: a version, or every version of a name', () => {
  it('rewrites latest to the newest remaining version, and removes the name with the last one', async () => {
    await writeBento('svc', 'v1', '2025-01-01T00:00:00Z');
    await writeBento('svc', 'v2', '2025-01-02T00:00:00Z');
    const store = openItemStore(home, 'bento');
    await store.get('svc');
    expect(await readFile(path.join(home, 'bentos', 'svc', 'latest'), 'utf8')).toBe('v2');
    await store.delete('svc:v2');
    expect(await readFile(path.join(home, 'bentos', 'svc', 'latest'), 'utf8')).toBe('v1');
    await store.delete('svc:v1');
    expect(await readdir(path.join(home, 'bentos'))).toEqual([]);
  });

  it('is exact (no prefixes), errors in BentoML words, and name:latest without a pointer is a no-op', async () => {
    await writeBento('svc', 'v1', '2025-01-01T00:00:00Z');
    const store = openItemStore(home, 'bento');
    const error = await errorOf(store.delete('svc:v'));
    expect(isBentoportError(error, 'ERR_NOT_FOUND')).toBe(true);
    expect(error.message).toBe("Bento 'svc:v' not found");
    await store.delete('svc:latest'); // no latest file yet: silently nothing
    expect((await store.list('svc')).length).toBe(1);
    await store.delete('svc');
    expect(await readdir(path.join(home, 'bentos'))).toEqual([]);
  });
});

describe('install', () => {
  it('renames a staged directory in, refuses an existing version, and only moves latest forward', async () => {
    const store = openItemStore(home, 'bento');
    await writeBento('svc', 'new', '2025-06-01T00:00:00Z');
    await store.get('svc');
    const staged = path.join(home, 'tmp', 'stage-1');
    await mkdir(staged, { recursive: true });
    await writeFile(path.join(staged, 'bento.yaml'), "service: s\nname: svc\nversion: old\ncreation_time: '2020-01-01T00:00:00Z'\n");
    const { parseBentoYaml } = await import('./metadata.js');
    const metadata = parseBentoYaml(await readFile(path.join(staged, 'bento.yaml'), 'utf8'));
    await store.install(staged, metadata);
    expect(await readFile(path.join(home, 'bentos', 'svc', 'latest'), 'utf8')).toBe('new');
    await mkdir(staged, { recursive: true });
    const error = await errorOf(store.install(staged, metadata));
    expect(error.code).toBe('ERR_ALREADY_EXISTS');
    expect(error.message).toBe(`Item 'svc:old' already exists in the store ${path.join(home, 'bentos')}`);
  });
});
