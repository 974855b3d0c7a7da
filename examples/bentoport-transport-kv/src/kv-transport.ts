import { stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { apiVersion, BentoportError, type Location, type Transport, type TransportListEntry, type TransportStat } from '@bentoport/spec';
import { optionChecks, throwIfAborted } from '@bentoport/plugin-kit';
import { COMPONENT, fromSystemError, kvFailure } from './kv-errors.js';
import { bucketKeys, checkRoot, hasKeysUnder, objectAddress, objectKey } from './kv-store.js';
import { openObjectReader } from './object-reader.js';
import { openObjectWriter } from './object-writer.js';

/** Options of {@link kvTransport}. */
export interface KvTransportOptions {
  /**
   * The directory that holds the store: one directory per bucket, one file per object. It must
   * exist; buckets are created on their first write.
   * @default `env.BENTOPORT_KV_ROOT`
   */
  root?: string;
  /** Where `BENTOPORT_KV_ROOT` is read from. @default process.env */
  env?: NodeJS.ProcessEnv;
  /**
   * Bytes a read or write stream buffers (and reads or writes per system call).
   * @default 65536
   */
  highWaterMark?: number;
}

const check = optionChecks(COMPONENT);

/** The store's root from the options, else the environment; a missing one is the user's to fix. */
function storeRoot(options: KvTransportOptions): string {
  const root = check.optionalString('root', options.root);
  if (root !== undefined) return path.resolve(root);
  const env = options.env ?? process.env;
  if (typeof env !== 'object' || env === null) throw new TypeError(`${COMPONENT}: options.env must be an object`);
  const fromEnv = env.BENTOPORT_KV_ROOT?.trim();
  if (fromEnv) return path.resolve(fromEnv);
  throw new BentoportError('ERR_INVALID_OPTION', `[${COMPONENT}] options.root: no store given; set options.root or BENTOPORT_KV_ROOT to an existing directory`, {
    details: { option: 'root' },
  });
}

/**
 * A transport for `kv://BUCKET/KEY`: a key/value store of objects kept in a local directory, with
 * atomic commits, ranged reads, listing by key prefix and delete. Written only against
 * `@bentoport/spec` and `@bentoport/plugin-kit`, as any third-party transport can be.
 *
 * The factory is synchronous and does no I/O.
 * @throws {BentoportError} ERR_INVALID_OPTION when neither `root` nor `BENTOPORT_KV_ROOT` is set,
 * or `highWaterMark` is below 1.
 * @throws {TypeError} for an option of the wrong type.
 * @example
 * ```ts
 * import { createBentoport } from '@bentoport/core';
 * import { tarFormat } from '@bentoport/format-tar';
 * import { kvTransport } from 'bentoport-transport-kv';
 *
 * const bentoport = createBentoport({ formats: [tarFormat()], transports: [kvTransport({ root: '/srv/kv' })] });
 * await bentoport.exportBento('iris_classifier:latest', 'kv://models/iris.tar');
 * ```
 */
export function kvTransport(options: KvTransportOptions = {}): Transport {
  check.object(options);
  const root = storeRoot(options);
  const highWaterMark = check.integer('highWaterMark', options.highWaterMark, 64 * 1024, 1);

  async function statObject(location: Location, signal: AbortSignal | undefined): Promise<TransportStat> {
    const address = objectAddress(root, location, 'STAT');
    throwIfAborted(signal, COMPONENT, 'STAT', location.display);
    if (address.key === '') {
      const bucket = await stat(address.bucketDirectory).catch((error: unknown) => {
        throw fromSystemError(error, 'STAT', location);
      });
      return { type: 'directory', size: 0, mtime: bucket.mtime };
    }
    const object = await stat(address.file).catch(() => undefined);
    if (object?.isFile()) return { type: 'file', size: object.size, mtime: object.mtime, etag: `${object.ino}-${object.mtimeMs}-${object.size}` };
    if (await hasKeysUnder(address, location, 'STAT')) return { type: 'directory', size: 0 };
    throw kvFailure('ERR_NOT_FOUND', 'STAT', location, 'no object and no key under this prefix');
  }

  async function listPrefix(location: Location, signal: AbortSignal | undefined): Promise<TransportListEntry[]> {
    const address = objectAddress(root, location, 'LIST');
    throwIfAborted(signal, COMPONENT, 'LIST', location.display);
    const prefix = address.key === '' ? '' : `${address.key.replace(/\/+$/, '')}/`;
    const files: TransportListEntry[] = [];
    const directories = new Set<string>();
    for (const { key, name } of await bucketKeys(address, location, 'LIST')) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash !== -1) {
        directories.add(rest.slice(0, slash));
        continue;
      }
      const size = (await stat(path.join(address.bucketDirectory, name)).catch(() => undefined))?.size;
      // An object deleted since the directory was read is simply not listed.
      if (size !== undefined) files.push({ name: rest, type: 'file', size });
    }
    if (prefix !== '' && files.length === 0 && directories.size === 0) throw kvFailure('ERR_NOT_FOUND', 'LIST', location, 'no key under this prefix');
    return [...files, ...[...directories].map((name): TransportListEntry => ({ name, type: 'directory', size: 0 }))];
  }

  return {
    apiVersion,
    name: COMPONENT,
    protocols: ['kv'],
    capabilities: { rangedReads: true, list: true, delete: true, atomicCommit: true, resumableWrites: false },
    stat: (location, statOptions = {}) => statObject(location, statOptions.signal),
    async read(location, readOptions = {}) {
      const address = objectAddress(root, location, 'READ');
      objectKey(address, location, 'READ');
      return openObjectReader(address.file, location, readOptions, highWaterMark);
    },
    async write(location, writeOptions = {}) {
      const address = objectAddress(root, location, 'WRITE');
      objectKey(address, location, 'WRITE');
      await checkRoot(root, location, 'WRITE');
      return openObjectWriter({ file: address.file, location, signal: writeOptions.signal, highWaterMark });
    },
    list: (location, listOptions = {}) => listPrefix(location, listOptions.signal),
    async delete(location, deleteOptions = {}) {
      const address = objectAddress(root, location, 'DELETE');
      objectKey(address, location, 'DELETE');
      throwIfAborted(deleteOptions.signal, COMPONENT, 'DELETE', location.display);
      await unlink(address.file).catch((error: unknown) => {
        throw fromSystemError(error, 'DELETE', location);
      });
    },
  };
}
