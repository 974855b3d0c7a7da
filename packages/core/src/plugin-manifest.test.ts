import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isBentoportError, type Transport } from '@bentoport/spec';
import { checkManifestApiVersion, pluginFromModule, pluginLoadError, readPluginManifest, servedNames, type PluginPackage } from './plugin-manifest.js';

const WHERE = '/n/node_modules/bentoport-transport-kv/package.json';

function packageJson(manifest: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'bentoport-transport-kv', version: '1.2.3', keywords: ['bentoport', 'bentoport-transport'], bentoport: manifest, ...extra };
}

const KV_MANIFEST = { apiVersion: 1, kind: 'transport', factory: 'kvTransport', protocols: ['kv'] };

function kvTransport(options: { protocols?: string[]; apiVersion?: number } = {}): Transport {
  return {
    apiVersion: (options.apiVersion ?? 1) as 1,
    name: 'transport-kv',
    protocols: options.protocols ?? ['kv'],
    capabilities: { rangedReads: true, list: false, delete: false, atomicCommit: true, resumableWrites: false },
    stat: async () => ({ type: 'file', size: 0 }),
    read: async () => Readable.from([]),
    write: async () => {
      throw new Error('not used');
    },
  };
}

function kvPackage(): PluginPackage {
  return readPluginManifest(packageJson(KV_MANIFEST), WHERE) as PluginPackage;
}

describe('readPluginManifest', () => {
  it('reads each kind, and what it serves', () => {
    expect(readPluginManifest(packageJson(KV_MANIFEST), WHERE)).toEqual({
      name: 'bentoport-transport-kv',
      version: '1.2.3',
      manifest: { apiVersion: 1, kind: 'transport', factory: 'kvTransport', protocols: ['kv'] },
    });
    const format = readPluginManifest(
      packageJson({ apiVersion: 1, kind: 'format', factory: 'tarFormat', formats: ['tar', 'gz'] }, { keywords: ['bentoport-format'] }),
      WHERE,
    );
    expect(format && servedNames(format.manifest)).toEqual(['tar', 'gz']);
    const registry = readPluginManifest(packageJson({ apiVersion: 1, kind: 'registry', factory: 'ociRegistry', schemes: ['oci'] }, { keywords: ['bentoport-registry'] }), WHERE);
    expect(registry && servedNames(registry.manifest)).toEqual(['oci']);
  });

  it('is undefined for a package that declares no plugin', () => {
    expect(readPluginManifest({ name: 'left-pad', version: '1.0.0' }, WHERE)).toBeUndefined();
  });

  it.each([
    [{ ...KV_MANIFEST, kind: 'codec' }, "bentoport.kind must be 'transport', 'format' or 'registry'"],
    [{ ...KV_MANIFEST, apiVersion: '1' }, 'bentoport.apiVersion must be a positive integer'],
    [{ ...KV_MANIFEST, factory: 'kv-transport' }, 'bentoport.factory must name an exported function'],
    [{ ...KV_MANIFEST, protocols: [] }, 'bentoport.protocols must be a non-empty array of lower-case names'],
    [{ ...KV_MANIFEST, protocols: ['KV'] }, 'bentoport.protocols must be a non-empty array of lower-case names'],
    [{ apiVersion: 1, kind: 'format', factory: 'f', protocols: ['kv'] }, 'bentoport.formats must be a non-empty array of lower-case names'],
  ])('refuses a malformed declaration %j with a TypeError naming the file and field', (manifest, reason) => {
    expect(() => readPluginManifest(packageJson(manifest), WHERE)).toThrow(new TypeError(`${WHERE} (bentoport-transport-kv): ${reason}`));
  });

  it('needs the npm keyword of its kind, a name and a version', () => {
    expect(() => readPluginManifest(packageJson(KV_MANIFEST, { keywords: ['bentoport'] }), WHERE)).toThrow("keywords must include 'bentoport-transport'");
    expect(() => readPluginManifest(packageJson(KV_MANIFEST, { name: undefined }), WHERE)).toThrow(`${WHERE}: a plugin package needs a name`);
    expect(() => readPluginManifest(packageJson(KV_MANIFEST, { version: 3 }), WHERE)).toThrow('a plugin package needs a version');
    expect(() => readPluginManifest(packageJson(KV_MANIFEST, { bentoport: ['transport'] }), WHERE)).toThrow('bentoport must be an object');
    expect(() => readPluginManifest([], WHERE)).toThrow(TypeError);
  });
});

describe('checkManifestApiVersion', () => {
  it('refuses a package built for another contract before anything is imported', () => {
    const future = readPluginManifest(packageJson({ ...KV_MANIFEST, apiVersion: 2 }), WHERE) as PluginPackage;
    expect(() => checkManifestApiVersion(future)).toThrow(
      'built for apiVersion 2, this bentoport speaks 1; install a version of bentoport-transport-kv built for apiVersion 1',
    );
    try {
      checkManifestApiVersion(future);
    } catch (error) {
      expect(isBentoportError(error, 'ERR_PLUGIN_VERSION')).toBe(true);
    }
    expect(() => checkManifestApiVersion(kvPackage())).not.toThrow();
  });
});

describe('pluginFromModule', () => {
  it('calls the declared factory with the options and returns its plugin', () => {
    const seen: unknown[] = [];
    const module = { kvTransport: (options: unknown) => (seen.push(options), kvTransport()) };
    const env = { BENTOPORT_KV_ROOT: '/srv/kv' };
    expect(pluginFromModule(kvPackage(), 'transport', module, { env }).name).toBe('transport-kv');
    expect(seen).toEqual([{ env }]);
  });

  it('refuses a module without the factory, or a factory returning something else', () => {
    expect(() => pluginFromModule(kvPackage(), 'transport', { default: kvTransport }, {})).toThrow("plugin package bentoport-transport-kv: its main entry exports no function 'kvTransport'");
    expect(() => pluginFromModule(kvPackage(), 'transport', { kvTransport: () => undefined }, {})).toThrow('kvTransport() returned undefined, not a transport');
    expect(() => pluginFromModule(kvPackage(), 'transport', { kvTransport: () => ({ ...kvTransport(), read: undefined }) }, {})).toThrow(
      'kvTransport() returned a transport without read (function)',
    );
    expect(() => pluginFromModule(kvPackage(), 'transport', { kvTransport: () => ({ ...kvTransport(), protocols: 'kv' }) }, {})).toThrow('without protocols (array)');
  });

  it('turns a throwing factory into one coded line naming the package, its directory and what to do', () => {
    const broken = {
      kvTransport: () => {
        throw new Error('boom from factory');
      },
    };
    let error: unknown;
    try {
      pluginFromModule({ ...kvPackage(), directory: '/n/node_modules/bentoport-transport-kv' }, 'transport', broken, {});
    } catch (caught) {
      error = caught;
    }
    expect(isBentoportError(error, 'ERR_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toBe(
      "[plugins] LOAD bentoport-transport-kv@1.2.3 /n/node_modules/bentoport-transport-kv: kvTransport() failed: boom from factory; remove or upgrade bentoport-transport-kv, or take it out of BENTOPORT_PLUGINS or 'plugins:' in the config file",
    );
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(pluginLoadError(kvPackage(), 'import', 'no such module').message).toMatch(/^\[plugins\] LOAD bentoport-transport-kv@1\.2\.3: import failed: no such module; /);
  });

  it('refuses a package of another kind than the caller loads', () => {
    expect(() => pluginFromModule(kvPackage(), 'format', { kvTransport }, {})).toThrow('plugin package bentoport-transport-kv declares a transport, not a format');
  });

  it('refuses a plugin that does not serve what package.json declares', () => {
    expect(() => pluginFromModule(kvPackage(), 'transport', { kvTransport: () => kvTransport({ protocols: ['kvs'] }) }, {})).toThrow(
      'kvTransport() returned a transport that does not serve kv, which package.json declares',
    );
  });

  it('refuses a plugin whose instance speaks another apiVersion than its manifest', () => {
    let error: unknown;
    try {
      pluginFromModule(kvPackage(), 'transport', { kvTransport: () => kvTransport({ apiVersion: 2 }) }, {});
    } catch (caught) {
      error = caught;
    }
    expect(isBentoportError(error, 'ERR_PLUGIN_VERSION')).toBe(true);
  });
});
