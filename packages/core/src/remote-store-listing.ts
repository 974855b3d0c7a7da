import { BentoportError } from '@bentoport/spec';
import type { EngineContext } from './engine-context.js';
import { TYPE_NAME } from './item-store.js';
import { LOCAL_STORE } from './local-store-endpoint.js';
import { openRemoteStore } from './remote-store.js';
import { sync, type SyncOptions, type SyncResult } from './sync.js';
import type { SyncCallOptions, SyncItem } from './sync-endpoint.js';
import { newestOfEachName } from './sync-plan.js';
import { compareTags, parseTag } from './tag.js';
import type { ItemKind } from './target.js';

/**
 * `list URL` and `get URL/TAG` on a remote store, with the local store's tag rules: from the
 * index (one small read), or, where there is none, from the archives' names and the yaml read
 * from each archive's head: never the weights.
 */

function itemsOfKind(items: SyncItem[], kind: ItemKind): SyncItem[] {
  return items.filter((item) => item.kind === kind);
}

/** The items of `kind` a tag-like selects: all, `name`, `name:version`, `name:latest`, or a version prefix. */
function select(items: SyncItem[], kind: ItemKind, tagLike: string | undefined, where: string): SyncItem[] {
  if (tagLike === undefined) return items;
  const tag = parseTag(tagLike);
  const named = items.filter((item) => item.name === tag.name);
  if (named.length === 0) throw new BentoportError('ERR_NOT_FOUND', `no ${TYPE_NAME[kind]}s with name '${tag.name}' found in ${where}`);
  if (tag.version === undefined) return named;
  if (tag.version === 'latest') return newestOfEachName(named);
  const exact = named.filter((item) => item.version === tag.version);
  if (exact.length > 0) return exact;
  const prefixed = named.filter((item) => item.version.startsWith(tag.version as string));
  if (prefixed.length > 1) throw new BentoportError('ERR_AMBIGUOUS', `Multiple ${TYPE_NAME[kind]} versions found in ${where}: ${prefixed.map((item) => item.version).join(', ')}`);
  if (prefixed.length === 0) throw new BentoportError('ERR_NOT_FOUND', `${TYPE_NAME[kind]} '${tagLike}' not found in ${where}`);
  return prefixed;
}

/** Items of `kind` in the remote store at `url` (all, a name's versions, or one). */
export async function listRemoteItems(context: EngineContext, url: string, kind: ItemKind, tagLike: string | undefined, options: SyncCallOptions = {}): Promise<SyncItem[]> {
  const store = openRemoteStore(context, url);
  const items = itemsOfKind(await store.list({ ...options, kind, existing: true }), kind);
  return select(items, kind, tagLike, store.display).sort((a, b) => compareTags({ name: a.name, version: a.version }, { name: b.name, version: b.version }));
}

/** One item of a remote store, with its yaml as written in the archive. */
export interface RemoteItem extends SyncItem {
  document: Record<string, unknown>;
  /** The `bento.yaml`/`model.yaml` text, unchanged. */
  yaml: string;
}

/** One item of the remote store at `url`, with its yaml document read from the archive's head. */
export async function getRemoteItem(context: EngineContext, url: string, kind: ItemKind, tagLike: string, options: SyncCallOptions = {}): Promise<RemoteItem> {
  const store = openRemoteStore(context, url);
  const items = select(itemsOfKind(await store.list({ ...options, kind, existing: true }), kind), kind, tagLike, store.display);
  // A bare name is its latest version, as the local `get` has it.
  const item = newestOfEachName(items)[0] as SyncItem;
  return { ...item, ...(await store.document(item, options)) };
}

/**
 * Import one bento (`name`, `name:latest`, `name:version`) from the remote store at `url` into
 * the local store with exactly the models it needs, skipping those the local store holds: a
 * sync of that one tag, so every archive is verified on arrival and enters through the import
 * pipeline.
 */
export async function importFromRemoteStore(context: EngineContext, url: string, tagLike: string, options: Omit<SyncOptions, 'filter' | 'latest' | 'delete' | 'format'> = {}): Promise<SyncResult> {
  const store = openRemoteStore(context, url);
  const call = options.signal ? { signal: options.signal } : {};
  const item = newestOfEachName(select(itemsOfKind(await store.list({ ...call, existing: true }), 'bento'), 'bento', tagLike, store.display))[0] as SyncItem;
  return sync(context, store, LOCAL_STORE, { ...options, filter: `${item.name}:${item.version}` });
}
