import { mkdir, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isBentoportError } from '@bentoport/spec';
import { FORMAT_TOKENS, formatExtensions, guessFormat, resolveExportTarget, resolveImportSource, type TargetOptions } from './target.js';

let d: string;
beforeAll(async () => {
  d = await mkdtemp(path.join(tmpdir(), 'bentoport-target-'));
  await mkdir(path.join(d, 'existing'));
});

const isLocalDirectory = async (candidate: string) => (await stat(candidate).catch(() => undefined))?.isDirectory() ?? false;

async function exportTo(target: string, format?: string, options?: TargetOptions, cwd?: string) {
  const resolved = await resolveExportTarget({
    target,
    format,
    options,
    kind: 'bento',
    name: 'svc',
    version: 'v1',
    cwd: cwd ?? d,
    isLocalDirectory,
  });
  return { ...resolved.location, format: resolved.format };
}

describe('guessFormat: the format a file name implies, as BentoML guesses it', () => {
  it.each([
    ['x.bento', 'bento'],
    ['x.tar.gz', 'gz'],
    ['x.gz', 'gz'],
    ['x.tar', 'tar'],
    ['x.zip', 'zip'],
    ['x.tar.xz', 'xz'],
    ['x.bz2', 'bz2'],
    ['x', 'bento'],
    ['x.ext', 'bento'],
    ['dir/', 'bento'],
    ['/a/.hidden', 'bento'],
    ['x.BENTO', 'bento'],
    ['x.bentomodel', 'bento'],
    // A deliberate difference (README): BentoML reads .tgz as its native xz; we read it as gzip.
    ['x.tgz', 'gz'],
  ])('%s → %s', (file, format) => {
    expect(guessFormat(file, 'bento')).toBe(format);
  });

  it('uses bentomodel as the native format of models', () => {
    expect(guessFormat('x', 'model')).toBe('bentomodel');
    expect(guessFormat('x.bentomodel', 'model')).toBe('bentomodel');
  });
});

describe('formatExtensions: the extensions help texts list for each format', () => {
  it('names exactly the extensions guessFormat reads as that format, for both kinds', () => {
    for (const kind of ['bento', 'model'] as const) {
      for (const format of FORMAT_TOKENS) {
        for (const extension of formatExtensions(format, kind)) expect(guessFormat(`x${extension}`, kind), `${kind} x${extension}`).toBe(format);
      }
    }
  });

  it('lists the compressed tar forms first, and nothing for a token no extension picks', () => {
    expect(formatExtensions('gz', 'bento')).toEqual(['.tar.gz', '.gz', '.tgz']);
    expect(formatExtensions('bento', 'bento')).toEqual(['.bento']);
    expect(formatExtensions('bentomodel', 'bento')).toEqual([]);
    expect(formatExtensions('bentomodel', 'model')).toEqual(['.bentomodel']);
    expect(formatExtensions('zst', 'bento')).toEqual([]);
  });
});

describe('export targets (spec appendix)', () => {
  it('an existing directory gets the default file name', async () => {
    expect((await exportTo(path.join(d, 'existing'))).path).toBe(path.join(d, 'existing', 'svc-v1.bento'));
  });
  it.each([
    ['a', 'a.bento'],
    ['b.bento', 'b.bento'],
    ['c.tar.gz', 'c.tar.gz'],
    ['h.ext', 'h.ext.bento'],
    // Deliberate fix: x.tgz is gzip, never renamed x.tgz.bento.
    ['m.tgz', 'm.tgz'],
  ])('%s → %s', async (name, expected) => {
    expect((await exportTo(path.join(d, name))).path).toBe(path.join(d, expected));
  });
  it('an explicit non-native format adds no extension', async () => {
    const target = await exportTo(path.join(d, 'i'), 'gz');
    expect(target.path).toBe(path.join(d, 'i'));
    expect(target.format).toBe('gz');
  });
  it('a directory with an explicit format uses the format token as extension', async () => {
    expect((await exportTo(path.join(d, 'existing'), 'zip')).path).toBe(path.join(d, 'existing', 'svc-v1.zip'));
    expect((await exportTo(path.join(d, 'existing'), 'gz')).path).toBe(path.join(d, 'existing', 'svc-v1.gz'));
  });
  it('file://, zip://, tar://, osfs:// URLs are local files and do not pick the format', async () => {
    expect((await exportTo(`zip://${d}/j.zip`)).path).toBe(`${d}/j.zip`);
    expect((await exportTo(`tar://${d}/k.tar`)).format).toBe('tar');
    expect((await exportTo(`file://${d}/l`)).path).toBe(`${d}/l.bento`);
    const osfs = await exportTo(`osfs://${d}/m.gz`);
    expect(osfs.protocol).toBe('file');
    expect(osfs.format).toBe('gz');
  });
  it('a trailing slash means a directory', async () => {
    expect((await exportTo(`${d}/nodir/`)).path).toBe(`${d}/nodir/svc-v1.bento`);
  });
  it('relative paths resolve against the current directory (BentoML: against /)', async () => {
    expect((await exportTo('')).path).toBe(path.join(d, 'svc-v1.bento'));
    expect((await exportTo('.')).path).toBe(path.join(d, 'svc-v1.bento'));
    expect((await exportTo('rel.tar')).path).toBe(path.join(d, 'rel.tar'));
    expect((await exportTo('existing', undefined, undefined, d)).path).toBe(path.join(d, 'existing', 'svc-v1.bento'));
  });
  it('folder gets a trailing slash and no file name', async () => {
    const target = await exportTo(path.join(d, 'out'), 'folder');
    expect(target.path).toBe(path.join(d, 'out'));
    expect(target.format).toBe('folder');
  });
  it('refuses a URL with extra fields, in BentoML words', async () => {
    const error = await exportTo('file:///x', undefined, { subpath: 'a' }).catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_INVALID_TARGET')).toBe(true);
    expect((error as Error).message).toBe(
      'An FS URL was passed as the output path; all additional information should be passed as part of the URL.',
    );
    expect(() => resolveImportSource('s3://b/k', undefined, { user: 'u' }, 'bento')).toThrow(
      'An FS URL was passed as the input path; all additional information should be passed as part of the URL.',
    );
  });
});

describe('remote targets: protocol, user, passwd and params split like BentoML', () => {
  it('protocol keyword: the first segment is the bucket', async () => {
    const target = await exportTo('bucket/folder/x.bento', undefined, { protocol: 's3' });
    expect(target).toMatchObject({ protocol: 's3', host: 'bucket', path: '/folder/x.bento', display: 's3://bucket/folder/x.bento' });
  });
  it('subpath keyword: the whole path is the resource', async () => {
    const target = await exportTo('bucket', undefined, { protocol: 's3', subpath: 'folder/' });
    expect(target).toMatchObject({ host: 'bucket', path: '/folder/svc-v1.bento' });
  });
  it('remote paths without a trailing slash are files', async () => {
    expect((await exportTo('s3://bucket/folder')).display).toBe('s3://bucket/folder.bento');
    expect((await exportTo('s3://bucket')).display).toBe('s3://bucket/svc-v1.bento');
  });
  it('user and passwd are quoted into the netloc and redacted in displays', async () => {
    const target = await exportTo('host/dir/x.tar', undefined, { protocol: 'ftp', user: 'me@corp', passwd: 's/cr:t', params: { a: 'b c' } });
    expect(target.host).toBe('me%40corp:s%2Fcr%3At@host');
    expect(target.query).toBe('a=b+c');
    expect(target.display).not.toContain('cr');
    expect(target.display).toContain('***');
  });
  it('import keeps the netloc and query of a URL verbatim', () => {
    const source = resolveImportSource('s3://key:secret@bucket/path/x.tar.gz?region=eu', undefined, undefined, 'bento');
    expect(source.location).toMatchObject({ protocol: 's3', host: 'key:secret@bucket', path: '/path/x.tar.gz', query: 'region=eu' });
    expect(source.location.display).toBe('s3://key:***@bucket/path/x.tar.gz?region=eu');
    expect(source.format).toBe('gz');
    expect(source.explicitFormat).toBe(false);
  });
});

describe('resolved location display', () => {
  it('keeps presigned signatures out of a resolved location display', () => {
    const { location } = resolveImportSource('https://bucket.example.com/iris.tar.gz?X-Amz-Credential=AKIA&X-Amz-Signature=deadbeef', undefined, undefined, 'bento', '/');
    expect(location.query).toContain('X-Amz-Signature=deadbeef');
    expect(location.display).toBe('https://bucket.example.com/iris.tar.gz?X-Amz-Credential=***&X-Amz-Signature=***');
  });
});
