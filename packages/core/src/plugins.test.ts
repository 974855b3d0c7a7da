import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isBentoportError, type Format, type Transport } from '@bentoport/spec';
import { missingPluginDetails, pluginSet, unsupportedRegistryError } from './plugins.js';

function fakeFormat(tokens: string[], magic?: number[]): Format {
  return {
    apiVersion: 1,
    name: `format-${tokens[0]}`,
    formats: tokens,
    capabilities: { randomAccessDecode: false, symlinks: true, hardlinks: false, reproducible: true },
    sniff: (head) => (magic !== undefined && magic.every((byte, index) => head[index] === byte) ? tokens[0] : undefined),
    encode: () => Readable.from([]),
    decode: () => (async function* () {})(),
  };
}

function fakeTransport(protocols: string[], apiVersion = 1): Transport {
  return {
    apiVersion,
    name: `transport-${protocols[0]}`,
    protocols,
    capabilities: { rangedReads: false, list: false, delete: false, atomicCommit: true, resumableWrites: false },
    stat: async () => ({ type: 'file', size: 0 }),
    read: async () => Readable.from([]),
    write: async () => {
      throw new Error('not used');
    },
  } as Transport;
}

function thrown(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

const XZ_HEAD = Uint8Array.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0]);

describe('pluginSet', () => {
  const plugins = pluginSet([fakeFormat(['tar', 'gz'], [0x1f, 0x8b]), fakeFormat(['zip'])], [fakeTransport(['file']), fakeTransport(['s3', 's3a'])]);

  it('finds the plugin serving a token or protocol', () => {
    expect(plugins.formatFor('gz').name).toBe('format-tar');
    expect(plugins.transportFor('s3a', 's3a://b/k').name).toBe('transport-s3');
    expect(plugins.sniff(Uint8Array.from([0x1f, 0x8b, 8]), 'x')).toBe('tar');
  });

  it('names an unserved protocol and the installed ones, never a package', () => {
    const error = thrown(() => plugins.transportFor('gs', 'gs://bucket/x.bento'));
    expect(isBentoportError(error, 'ERR_UNSUPPORTED_PROTOCOL')).toBe(true);
    expect(error.message).toBe("no installed transport serves protocol 'gs' (gs://bucket/x.bento); installed protocols: file, s3, s3a");
    expect(missingPluginDetails(error)).toEqual({ kind: 'transport', name: 'gs', installed: ['file', 's3', 's3a'] });
  });

  it('names an unserved format token, with what BentoML means by it, and the installed tokens', () => {
    const error = thrown(() => plugins.formatFor('bento'));
    expect(isBentoportError(error, 'ERR_UNSUPPORTED_FORMAT')).toBe(true);
    expect(error.message).toBe(
      "no installed format reads or writes 'bento' (tar+xz, BentoML's native bento format); installed formats: tar, gz, zip, and folder for local directories",
    );
    expect(error.message).not.toContain('@bentoport');
    expect(missingPluginDetails(error)).toEqual({ kind: 'format', name: 'bento', installed: ['tar', 'gz', 'zip'] });
    expect(thrown(() => plugins.formatFor('zstd')).message).toMatch(/^no installed format reads or writes 'zstd'; installed formats: tar, gz, zip/);
  });

  it('tells folder apart: core handles it, no plugin does', () => {
    expect(thrown(() => plugins.formatFor('folder')).message).toMatch(/^format 'folder' is a directory/);
  });

  it('recognises the magic of a BentoML format no plugin reads, so formatFor names its token', () => {
    expect(plugins.sniff(XZ_HEAD, 'x.bento')).toBe('xz');
    expect(missingPluginDetails(thrown(() => plugins.formatFor('xz')))?.name).toBe('xz');
  });

  it('says when bytes match no format, listing the installed ones', () => {
    const error = thrown(() => plugins.sniff(Uint8Array.from([1, 2, 3]), '/tmp/junk'));
    expect(isBentoportError(error, 'ERR_UNSUPPORTED_FORMAT')).toBe(true);
    expect(error.message).toBe('/tmp/junk is not an archive bentoport can read: its first bytes match no known format (installed formats: tar, gz, zip)');
    expect(missingPluginDetails(error)).toBeUndefined();
  });

  it('says "none" when nothing of a kind is installed', () => {
    expect(thrown(() => pluginSet([], []).transportFor('file', '/x')).message).toMatch(/installed protocols: none$/);
  });

  it('refuses a plugin of another apiVersion', () => {
    const error = thrown(() => pluginSet([], [fakeTransport(['kv'], 2 as 1)]));
    expect(isBentoportError(error, 'ERR_PLUGIN_VERSION')).toBe(true);
    expect(error.message).toBe("transport plugin 'transport-kv' speaks apiVersion 2, this @bentoport/core speaks 1; install matching versions");
  });
});

describe('unsupportedRegistryError', () => {
  it('names the scheme and the installed registry schemes', () => {
    const error = unsupportedRegistryError('s3', 's3://bucket/team', ['oci', 'bentocloud']);
    expect(isBentoportError(error, 'ERR_UNSUPPORTED_PROTOCOL')).toBe(true);
    expect(error.message).toBe("no installed registry serves 's3://' (s3://bucket/team); installed registry schemes: oci, bentocloud");
    expect(missingPluginDetails(error)).toEqual({ kind: 'registry', name: 's3', installed: ['oci', 'bentocloud'] });
  });

  it('missingPluginDetails ignores other errors', () => {
    expect(missingPluginDetails(new Error('x'))).toBeUndefined();
    expect(missingPluginDetails(undefined)).toBeUndefined();
  });
});
