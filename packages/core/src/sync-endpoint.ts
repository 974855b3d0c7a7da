import type { Readable } from 'node:stream';
import type { ArchiveEntry, ProgressListener } from '@bentoport/spec';
import type { ItemKind } from './target.js';

/**
 * One side of a sync: the local store, a remote store on a transport (remote-store.ts), or a
 * registry. `sync(src, dst)` lists both sides, plans what is missing at DST (sync-plan.ts), then
 * moves each item with `src.open(item)` → `dst.receive(payload)`, models before the bentos that
 * need them, and calls `dst.finish()` once at the end (where a remote store writes its index).
 *
 * How a registry endpoint plugs in (registry-sync-endpoint.ts, built on `Registry.listItems`):
 * - `list` maps each `RegistryListing` to a {@link SyncItem} (`models` from the listing, `sha256`
 *   left undefined: a registry's digest is not an archive's, so items are matched by tag);
 * - `open` returns a payload whose `entries()` is `registry.pull(ref)` and has no `archive`;
 * - `receive` turns the payload into a `RegistryPushItem` (`entries: payload.entries`, the
 *   bento's models as already-pushed refs) and calls `registry.push`, then `putSignature` when
 *   the payload carries one and the registry can hold it;
 * - `remove` is present only when the registry can delete; `finish` is not needed.
 * Nothing else in the engine knows which kind of endpoint it talks to.
 */

/** A model a bento needs, by tag. */
export interface SyncModelRef {
  name: string;
  version: string;
}

/** One complete item an endpoint holds, as a sync plans with it. */
export interface SyncItem {
  kind: ItemKind;
  name: string;
  version: string;
  /** `creation_time` in microseconds since the epoch (UTC), as `ItemMetadata.creationTime`. */
  creationTime: number;
  /**
   * Bytes the item occupies at the endpoint: the archive's size in a remote store, the
   * directory's size in the local store (a bento without its models), the registry's size.
   * @default undefined (not known)
   */
  size?: number;
  /** SHA-256 (hex) of the item's archive, where the endpoint stores archives. @default undefined */
  sha256?: string;
  /** The format token of the stored archive (`bentomodel`, `gz`, …). @default undefined (no archive) */
  format?: string;
  /** For a bento: the bentoml-registry models it needs. Empty for a model. */
  models: SyncModelRef[];
  /** A signature travels with the item (`<archive>.sig`, the store's `.bentoport.sig`). */
  signed: boolean;
  /** For a model: its framework module (`Module` column of `models list`). @default undefined */
  module?: string;
  /** The item's yaml document, when the endpoint keeps it (for `get URL/TAG`). @default undefined */
  document?: Record<string, unknown>;
}

/** The archive bytes of an item, as a remote store keeps them. */
export interface SyncArchive {
  format: string;
  sha256: string;
  size: number;
  /** Open the archive from its first byte. */
  open(options: SyncCallOptions): Promise<Readable>;
}

/** One item on its way from SRC to DST. */
export interface SyncPayload {
  item: SyncItem;
  /**
   * The item's files (a bento without `models/`), as the local store holds them. Each call is a
   * fresh pass. Every source provides it: it is the common language of all endpoints. It reports
   * `bytes` to `options.onProgress` as it reads, in the unit of `contentBytes`.
   */
  entries(options: SyncEntriesOptions): AsyncIterable<ArchiveEntry>;
  /**
   * The archive itself, when the source stores one: a receiver of the same format copies these
   * bytes verbatim (checked against `sha256` as they stream), one that imports into the local
   * store feeds them to the one import pipeline. @default undefined (encode `entries`)
   */
  archive?: SyncArchive;
  /** The item's signature file text, when one travels with it. @default undefined */
  signatureText?: string;
  /** Content bytes of `entries()`, for progress. @default undefined (not known) */
  contentBytes?: number;
}

/** Options every endpoint call receives. */
export interface SyncCallOptions {
  signal?: AbortSignal;
  /** Receives `bytes` of this one item (cumulative within the call), notices and warnings. */
  onProgress?: ProgressListener;
}

/** Options of {@link SyncEndpoint.list}. */
export interface SyncListOptions extends SyncCallOptions {
  /**
   * Look past the endpoint's own records for items that arrived whole but were not recorded (a
   * remote store: archives with a checksum sidecar that its index does not name, after an
   * interrupted sync or a lost index race). `heads`: describe each fully (a remote store reads its
   * yaml from the archive's head), as a sync's SRC needs; `names`: only say that it is there
   * (`creationTime` 0, no `models`), which is all a sync's DST needs, and costs no read of an
   * archive: the item's description comes from SRC at `finish`. @default undefined (no scan)
   */
  scan?: 'heads' | 'names';
  /** Only items of this kind (a listing of bentos need not look at models). @default undefined (both) */
  kind?: ItemKind;
  /**
   * The endpoint is read from (a sync's SRC, `list URL`, `get URL/TAG`), so one that holds no
   * store at all is a mistaken path or URL, not an empty store: a remote store with neither an
   * index nor any archive throws ERR_NOT_FOUND. A DST may be new. @default false
   */
  existing?: boolean;
}

/** Options of {@link SyncPayload.entries}. */
export interface SyncEntriesOptions extends SyncCallOptions {
  /** The receiver's format stores symlinks; when not, links are followed and their targets sent. @default true */
  keepSymlinks?: boolean;
}

/** What `receive` did. */
export interface SyncReceipt {
  /** Bytes written at DST (archive bytes, or content bytes for a store). */
  bytes: number;
  /** The item as DST now holds it (with its archive's `sha256` and `size` for a remote store). */
  item: SyncItem;
}

/** One side of a sync. See the module comment for how each kind implements it. */
export interface SyncEndpoint {
  /** For messages: `local store /home/u/bentoml`, `s3://bucket/prefix/`. */
  readonly display: string;
  /**
   * Every complete item held. A remote store reads its index, and adds archives whose checksum
   * sidecar arrived (so an interrupted sync resumes without re-sending them).
   */
  list(options: SyncListOptions): Promise<SyncItem[]>;
  /** Open an item `list` returned, for `receive` at another endpoint. */
  open(item: SyncItem, options: SyncCallOptions): Promise<SyncPayload>;
  /**
   * Receive one item: nothing becomes visible before it is verified (SHA-256 while streaming,
   * or the store's import pipeline), and a failure leaves no trace.
   */
  receive(payload: SyncPayload, options: SyncCallOptions): Promise<SyncReceipt>;
  /** Remove an item (`--delete`). @default undefined (the endpoint cannot delete) */
  remove?(item: SyncItem, options: SyncCallOptions): Promise<void>;
  /**
   * Called once after every transfer of a sync, with what it received and removed, even when
   * some transfers failed (so what arrived is recorded). A remote store merges its index here.
   */
  finish?(change: SyncChange, options: SyncCallOptions): Promise<void>;
  /**
   * Called once when the sync ends, however it ends (done, failed, aborted), after `finish`: drop
   * what the endpoint held for this sync alone (a registry's relay store). Never throws.
   * @default undefined (nothing to drop)
   */
  release?(): Promise<void>;
}

/** What one sync changed at an endpoint. */
export interface SyncChange {
  received: SyncItem[];
  removed: SyncItem[];
  /** Selected items the endpoint already held, as SRC describes them (to record ones it holds but had not recorded). */
  present: SyncItem[];
}

/** `name:version`, and the key items are matched by across endpoints. */
export function syncItemKey(item: Pick<SyncItem, 'kind' | 'name' | 'version'>): string {
  return `${item.kind} ${item.name}:${item.version}`;
}
