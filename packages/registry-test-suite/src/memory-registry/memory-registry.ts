import type { Registry, RegistryCapabilities, RegistryItemRef, RegistryListing, RegistryListOptions, RegistryOperationOptions } from '@bentoport/spec';
import { downloadItem } from './memory-download.js';
import { COMPONENT, describeRef, itemKey, memoryFailure, newStore } from './memory-store.js';
import { uploadItem } from './memory-upload.js';

/** Options of {@link memoryRegistry}. */
export interface MemoryRegistryOptions {
  /**
   * Switch capabilities off to see how core (or the suite) copes without them: without `dedup`
   * every push sends everything, without `resumableUploads` a broken-off upload starts over.
   * Only `false` has an effect.
   * @default `dedup` and `resumableUploads` on (`separateModels` is always on)
   */
  capabilities?: Partial<Pick<RegistryCapabilities, 'dedup' | 'resumableUploads'>>;
  /**
   * Provide `list`.
   * @default true
   */
  list?: boolean;
  /**
   * Provide `listItems` (and declare `capabilities.listItems`).
   * @default true
   */
  listItems?: boolean;
  /**
   * Provide `latest` (and declare `capabilities.latestVersion`).
   * @default true
   */
  latest?: boolean;
  /**
   * The credentials this registry accepts. With it set, an instance whose `credentials` differ
   * refuses every operation with ERR_AUTH (the message never shows either).
   * @default undefined (no authentication)
   */
  acceptedCredentials?: string;
  /**
   * The credentials this instance presents.
   * @default undefined
   */
  credentials?: string;
}

let instances = 0;

/**
 * An in-memory registry: the reference the registry conformance suite tests itself against, and a
 * stand-in for tests of code that takes a `Registry`. Each call makes a fresh, private store.
 *
 * Honest where it matters: an item is visible only once its push completed; bodies are streamed
 * chunk by chunk, so the signal stops a push or pull midway; blobs are content-addressed, so an
 * unchanged file is not sent again (`bytesSkipped`); an upload that broke off (not an abort) is
 * continued by the next push; a pull verifies every body against its digest.
 *
 * @example
 * ```ts
 * import { memoryRegistry, runRegistrySuite } from '@bentoport/registry-test-suite';
 *
 * runRegistrySuite({ registry: memoryRegistry() });
 * ```
 */
export function memoryRegistry(options: MemoryRegistryOptions = {}): Registry {
  if (typeof options !== 'object' || options === null) throw new TypeError('memoryRegistry: options must be an object');
  const store = newStore();
  const url = `memory://${++instances}`;
  const capabilities: RegistryCapabilities = {
    separateModels: true,
    dedup: options.capabilities?.dedup !== false,
    resumableUploads: options.capabilities?.resumableUploads !== false,
    ...(options.latest === false ? {} : { latestVersion: true }),
    ...(options.listItems === false ? {} : { listItems: true }),
  };

  function authorize(operation: string, target: string): void {
    if (options.acceptedCredentials !== undefined && options.credentials !== options.acceptedCredentials) {
      throw memoryFailure('ERR_AUTH', operation, url, target, 'credentials refused');
    }
  }

  async function list(kind: RegistryItemRef['kind'], name: string, listOptions: RegistryOperationOptions = {}): Promise<string[]> {
    const target = `${kind} ${name}`;
    authorize('LIST', target);
    if (listOptions.signal?.aborted) throw memoryFailure('ERR_ABORTED', 'LIST', url, target, 'aborted', listOptions.signal.reason);
    const prefix = `${kind}/${name}/`;
    const versions = [...store.items.keys()].filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
    if (versions.length === 0) throw memoryFailure('ERR_NOT_FOUND', 'LIST', url, target, 'no versions');
    return versions;
  }

  /** The complete items of `kind` (of `name` when given), as their pushes left them. */
  async function listItems(kind: RegistryItemRef['kind'], listOptions: RegistryListOptions = {}): Promise<RegistryListing[]> {
    const target = `${kind} ${listOptions.name ?? '*'}`;
    authorize('LIST', target);
    if (listOptions.signal?.aborted) throw memoryFailure('ERR_ABORTED', 'LIST', url, target, 'aborted', listOptions.signal.reason);
    return [...store.listings.values()].filter((listing) => listing.kind === kind && (listOptions.name === undefined || listing.name === listOptions.name)).map((listing) => ({ ...listing }));
  }

  /** The version created last; equal times go to the greater version, as registry-oci does. */
  async function latest(kind: RegistryItemRef['kind'], name: string, latestOptions: RegistryOperationOptions = {}): Promise<string> {
    const versions = await list(kind, name, latestOptions);
    const created = (version: string) => store.listings.get(itemKey({ kind, name, version }))?.creationTime ?? 0;
    return versions.reduce((newest, version) => (created(version) > created(newest) || (created(version) === created(newest) && version > newest) ? version : newest));
  }

  return {
    apiVersion: 1,
    name: COMPONENT,
    url,
    capabilities,
    async has(ref, hasOptions = {}) {
      authorize('HAS', describeRef(ref));
      if (hasOptions.signal?.aborted) throw memoryFailure('ERR_ABORTED', 'HAS', url, describeRef(ref), 'aborted', hasOptions.signal.reason);
      return store.items.has(itemKey(ref));
    },
    async push(item, pushOptions = {}) {
      authorize('PUSH', describeRef(item.ref));
      return uploadItem(item, pushOptions, { store, url, dedup: capabilities.dedup, resumable: capabilities.resumableUploads });
    },
    pull(ref, pullOptions = {}) {
      return (async function* () {
        authorize('PULL', describeRef(ref));
        yield* downloadItem(ref, pullOptions, store, url);
      })();
    },
    ...(options.list === false ? {} : { list }),
    ...(options.latest === false ? {} : { latest }),
    ...(options.listItems === false ? {} : { listItems }),
  };
}
