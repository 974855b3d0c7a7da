import { type Registry, type RegistryListing } from '@bentoport/spec';
import { storeOf, type EngineContext } from './engine-context.js';
import { push } from './push.js';
import { registryListing } from './registry-listing.js';
import { localStoreEndpoint } from './local-store-endpoint.js';
import { relayStore } from './relay-store.js';
import { comparableUrl, type PushResult } from './push-pull.js';
import type { SyncCallOptions, SyncEndpoint, SyncItem, SyncPayload, SyncReceipt } from './sync-endpoint.js';

/** A registry's listing as a sync plans with it: matched by tag (a registry digest is not an archive's SHA-256). */
export function syncItemOfListing(listing: RegistryListing): SyncItem {
  return {
    kind: listing.kind,
    name: listing.name,
    version: listing.version,
    // A registry that does not say when an item was created sorts it first; sync never orders by it.
    creationTime: listing.creationTime ?? 0,
    ...(listing.size === undefined ? {} : { size: listing.size }),
    models: listing.kind === 'bento' ? [...(listing.models ?? [])] : [],
    signed: false,
    ...(listing.module === undefined ? {} : { module: listing.module }),
    ...(listing.document === undefined ? {} : { document: listing.document }),
  };
}

/** Bytes a push sent, as the registry reports them after its dedup (`bytesUploaded`, optional in the contract: a registry that reports none counts 0). */
function bytesSent(result: PushResult): number {
  return (result.bytesUploaded ?? 0) + result.models.reduce((sum, model) => sum + (model.bytesUploaded ?? 0), 0);
}

/**
 * The signature attached to a registry item, where the registry holds signatures.
 * @throws the registry's ERR_AUTH, ERR_IO.
 */
async function attachedSignature(registry: Registry, item: SyncItem, options: SyncCallOptions): Promise<string | undefined> {
  if (registry.capabilities.signatures !== true || typeof registry.getSignature !== 'function') return undefined;
  return registry.getSignature({ kind: item.kind, name: item.name, version: item.version }, { signal: options.signal, onProgress: options.onProgress });
}

/**
 * The configured registry a sync argument names by its `url` (credentials and a trailing `/`
 * ignored; a docker-style `HOST[:PORT]/REPOSITORY` is its `oci://` address), or undefined.
 */
export function registryNamed(context: EngineContext, target: string): Registry | undefined {
  const wanted = [comparableUrl(target), comparableUrl(`oci://${target}`)];
  return context.plugins.registries.find((registry) => wanted.includes(comparableUrl(registry.url)));
}

/**
 * A registry as one side of a sync, through the one push and pull pipeline:
 * - `list`: the registry's `listItems`, models and bentos (its records only, never content);
 * - `open`: the item's entries straight from `registry.pull`, which verifies every byte before the
 *   iteration completes, plus its attached signature; the receiving store stages, verifies and
 *   installs them as a pull does;
 * - `receive`: core's `push` of the item from a store. A registry plugin needs the item's
 *   directory in a store (OCI keys its digest cache on it, BentoCloud reads the README), so an
 *   item the local store lacks (from a remote store, another registry) is first received,
 *   verified, into the sync's relay store (relay-store.ts) and pushed from there; `release`
 *   removes the relay. `push` asks `has` first and sends a bento's models before it, so a model
 *   shared by many bentos is sent once (the registry's dedup does the rest), and it attaches a
 *   signature the store holds.
 * Nothing is removed: registries do not delete through the contract.
 */
export function registrySyncEndpoint(context: EngineContext, registry: Registry): SyncEndpoint {
  const listItems = registryListing(registry, 'it cannot be synced');
  const relay = relayStore(context);
  return {
    display: registry.url,
    async list(options) {
      const call = { signal: options.signal, onProgress: options.onProgress };
      const kinds = options.kind === undefined ? (['model', 'bento'] as const) : [options.kind];
      const listings: RegistryListing[] = [];
      for (const kind of kinds) listings.push(...(await listItems(kind, call)));
      return listings.map(syncItemOfListing);
    },
    // Entries arrive as the registry stored them, symlinks included: a receiver that cannot
    // store links (keepSymlinks: false) gets them as links all the same.
    async open(item, options): Promise<SyncPayload> {
      const ref = { kind: item.kind, name: item.name, version: item.version };
      const signatureText = await attachedSignature(registry, item, options);
      return {
        item,
        entries: (entryOptions) => registry.pull(ref, { signal: entryOptions.signal, onProgress: entryOptions.onProgress }),
        ...(signatureText === undefined ? {} : { signatureText }),
      };
    },
    async receive(payload, options): Promise<SyncReceipt> {
      const { item } = payload;
      const tag = `${item.name}:${item.version}`;
      const from = await pushSource(payload, options);
      const result = await push(from, item.kind, tag, { registry, ...(options.signal ? { signal: options.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
      return { bytes: bytesSent(result), item: { ...item, signed: item.signed || result.signed === true } };
    },
    release: () => relay.remove(),
  };

  /**
   * The store to push the payload's item from: the local store when it holds the item (the sync's
   * SRC is the local store, or the user has a copy), else the relay, after receiving it there
   * verified (from a remote store's archive or another registry's entries).
   */
  async function pushSource(payload: SyncPayload, options: SyncCallOptions): Promise<EngineContext> {
    const { item } = payload;
    if (await storeOf(context, item.kind).has({ name: item.name, version: item.version })) return context;
    const relayContext = await relay.context();
    await localStoreEndpoint(relayContext).receive(payload, { ...(options.signal ? { signal: options.signal } : {}) });
    return relayContext;
  }
}
