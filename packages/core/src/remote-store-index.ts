import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { BentoportError, isBentoportError, type Location, type Transport } from '@bentoport/spec';
import { readSmallText, writeSmallText } from './sidecar-files.js';
import { childLocation, INDEX_NAME } from './remote-store-layout.js';
import { syncItemKey, type SyncItem } from './sync-endpoint.js';

/**
 * The index of a remote store: one JSON document listing every complete item with what a
 * reader needs to list it and a sync needs to plan (tag, creation time, archive size and
 * SHA-256, the models a bento needs, whether it is signed). It is written last, after every
 * archive and sidecar it names, through the transport's two-phase write: a reader sees the
 * previous index or the new one, never a torn or half-written one.
 */

/** `layout` of the index this code writes; a reader refuses a newer one. */
export const INDEX_LAYOUT_VERSION = 1;
/** An index is small (a few hundred bytes an item); reading stops past this. */
const INDEX_MAX_BYTES = 64 * 1024 * 1024;
/** How many times a writer re-merges when another writer's index replaced its own. */
export const INDEX_MERGE_ATTEMPTS = 8;

/** One item in the index: a {@link SyncItem} whose archive fields are always set. */
export interface IndexedItem extends SyncItem {
  /** The archive's path relative to the store's root. */
  file: string;
  format: string;
  size: number;
  sha256: string;
}

export interface RemoteStoreIndex {
  /** Always `bentoport-remote-store`: tells the file apart from anything else of that name. */
  kind: 'bentoport-remote-store';
  layout: number;
  /** Counts writes: each merge writes the generation it read plus one. */
  generation: number;
  /** A random id of the write that produced this generation. */
  writer: string;
  /** ISO time of that write. */
  updatedAt: string;
  items: IndexedItem[];
}

export function emptyIndex(): RemoteStoreIndex {
  return { kind: 'bentoport-remote-store', layout: INDEX_LAYOUT_VERSION, generation: 0, writer: '', updatedAt: new Date(0).toISOString(), items: [] };
}

function isIndexedItem(value: unknown): value is IndexedItem {
  const item = value as Partial<IndexedItem> | null;
  return (
    typeof item === 'object' &&
    item !== null &&
    (item.kind === 'bento' || item.kind === 'model') &&
    typeof item.name === 'string' &&
    typeof item.version === 'string' &&
    typeof item.creationTime === 'number' &&
    typeof item.file === 'string' &&
    typeof item.format === 'string' &&
    typeof item.size === 'number' &&
    typeof item.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(item.sha256) &&
    Array.isArray(item.models) &&
    typeof item.signed === 'boolean'
  );
}

/**
 * Parse an index document.
 * @throws {BentoportError} ERR_CORRUPT_ARCHIVE when it is not a bentoport index, ERR_PLUGIN_VERSION
 * when a newer bentoport wrote it.
 */
export function parseIndex(text: string, where: string): RemoteStoreIndex {
  let document: Partial<RemoteStoreIndex>;
  try {
    document = JSON.parse(text) as Partial<RemoteStoreIndex>;
  } catch (error) {
    throw new BentoportError('ERR_CORRUPT_ARCHIVE', `${where} is not valid JSON; remove it and sync again to rebuild it`, { cause: error });
  }
  if (document?.kind !== 'bentoport-remote-store' || typeof document.layout !== 'number' || !Array.isArray(document.items)) {
    throw new BentoportError('ERR_CORRUPT_ARCHIVE', `${where} is not a bentoport remote store index; remove it and sync again to rebuild it`);
  }
  if (document.layout > INDEX_LAYOUT_VERSION) {
    throw new BentoportError('ERR_PLUGIN_VERSION', `${where} has layout ${document.layout}, newer than this bentoport reads (${INDEX_LAYOUT_VERSION}); upgrade bentoport`);
  }
  const bad = document.items.find((item) => !isIndexedItem(item));
  if (bad !== undefined) throw new BentoportError('ERR_CORRUPT_ARCHIVE', `${where} holds a malformed item (${JSON.stringify(bad).slice(0, 200)})`);
  return {
    kind: document.kind,
    layout: document.layout,
    generation: typeof document.generation === 'number' ? document.generation : 0,
    writer: typeof document.writer === 'string' ? document.writer : '',
    updatedAt: typeof document.updatedAt === 'string' ? document.updatedAt : '',
    items: document.items,
  };
}

/** Reads of the index before an I/O failure is given up on. */
const INDEX_READ_ATTEMPTS = 4;

/**
 * The index at the store's root, or undefined when it has none. Another writer may replace the
 * index while it is being read (S3 then answers 412 to the pinned range: "the object changed while
 * it was being read"); the replacement is whole, so the read starts again, a bounded number of times.
 */
export async function readIndex(transport: Transport, root: Location, signal?: AbortSignal): Promise<RemoteStoreIndex | undefined> {
  const location = childLocation(root, INDEX_NAME);
  for (let attempt = 1; ; attempt++) {
    let text: string;
    try {
      text = await readSmallText(await transport.read(location, { signal }), INDEX_MAX_BYTES);
    } catch (error) {
      if (isBentoportError(error, 'ERR_NOT_FOUND')) return undefined;
      if (!isBentoportError(error, 'ERR_IO') || attempt >= INDEX_READ_ATTEMPTS || signal?.aborted) throw error;
      await delay(10 * attempt + Math.floor(Math.random() * 40), undefined, { signal });
      continue;
    }
    return parseIndex(text, location.display);
  }
}

/** What one writer changes in the index. */
export interface IndexChange {
  /** Items to add or replace (by kind, name and version). */
  put: IndexedItem[];
  /** Items to take out. */
  remove: Array<Pick<SyncItem, 'kind' | 'name' | 'version'>>;
}

/** `current` with `change` applied, sorted so the same content always writes the same bytes. */
export function mergeIndex(current: RemoteStoreIndex, change: IndexChange, writer: string): RemoteStoreIndex {
  const items = new Map(current.items.map((item) => [syncItemKey(item), item]));
  for (const removed of change.remove) items.delete(syncItemKey(removed));
  for (const item of change.put) items.set(syncItemKey(item), item);
  const sorted = [...items.values()].sort((a, b) => (syncItemKey(a) < syncItemKey(b) ? -1 : syncItemKey(a) > syncItemKey(b) ? 1 : 0));
  return { ...emptyIndex(), generation: current.generation + 1, writer, updatedAt: new Date().toISOString(), items: sorted };
}

/** Whether `index` shows `change`: every put item with its digest, no removed one. */
function showsChange(index: RemoteStoreIndex, change: IndexChange): boolean {
  const items = new Map(index.items.map((item) => [syncItemKey(item), item]));
  return change.put.every((item) => items.get(syncItemKey(item))?.sha256 === item.sha256) && change.remove.every((item) => !items.has(syncItemKey(item)));
}

/**
 * Apply `change` to the store's index with concurrent writers in mind. The transports offer no
 * compare-and-swap, so a writer reads the index, writes the merge (two-phase: never torn), waits
 * a moment and reads it back: if another writer's index replaced its own without its change,
 * it merges again, at most {@link INDEX_MERGE_ATTEMPTS} times. Whatever interleaving, the index
 * stays a complete document naming only items that arrived whole; an item a lost race left out
 * keeps its archive and checksum sidecar, and the next sync or listing puts it back.
 * @returns the index as written.
 * @throws {BentoportError} ERR_IO when the change could not be kept after every attempt.
 */
export async function mergeIntoIndex(transport: Transport, root: Location, change: IndexChange, signal?: AbortSignal): Promise<RemoteStoreIndex> {
  const writer = randomBytes(8).toString('hex');
  const location = childLocation(root, INDEX_NAME);
  for (let attempt = 1; attempt <= INDEX_MERGE_ATTEMPTS; attempt++) {
    const current = (await readIndex(transport, root, signal)) ?? emptyIndex();
    const merged = mergeIndex(current, change, writer);
    await writeSmallText(transport, location, `${JSON.stringify(merged, null, 1)}\n`, signal);
    // Another writer that read before this write landed may replace it a moment later.
    await delay(20 + Math.floor(Math.random() * 60), undefined, { signal });
    const back = await readIndex(transport, root, signal);
    if (back && showsChange(back, change)) return back;
  }
  throw new BentoportError('ERR_IO', `${location.display}: other writers kept replacing the index; ${INDEX_MERGE_ATTEMPTS} merges did not hold, sync again`);
}
