import type { ArchiveEntry } from './archive-entry.js';
import type { ApiVersion } from './api-version.js';
import type { ItemMetadata } from './item-metadata.js';
import type { ProgressListener } from './progress.js';

/** A stored item a registry can hold. */
export interface RegistryItemRef {
  kind: 'bento' | 'model';
  name: string;
  version: string;
}

export interface RegistryCapabilities {
  /** Models are stored as items of their own, so a bento's models can be pushed and pulled separately. */
  separateModels: boolean;
  /** Content the registry already holds is not sent again. */
  dedup: boolean;
  /** An interrupted upload can be continued. */
  resumableUploads: boolean;
  /**
   * Optional: {@link Registry.latest} is implemented, so `pull NAME` and `pull NAME:latest` fetch
   * the registry's newest version (as `bentoml models pull NAME` does). Absent or false: core
   * pulls a name without a version only when the local store has it.
   * @default false
   */
  latestVersion?: boolean;
  /**
   * Optional: {@link Registry.putSignature} and {@link Registry.getSignature} are implemented, so
   * an item's signature travels with it (OCI: as a referrer of its manifest).
   * @default false
   */
  signatures?: boolean;
  /**
   * Optional: {@link Registry.listItems} is implemented, so `bentoport list oci://…` and
   * `bentoport sync` can see what the registry holds (every name, or one name's versions) with
   * each item's creation time and size, without downloading content. Absent or false: core can
   * only ask about items it names (`has`, `list`).
   * @default false
   */
  listItems?: boolean;
}

export interface RegistryOperationOptions {
  signal?: AbortSignal;
  /** Receives `bytes`, `notice` and `warning` events; core stamps the operation (`push`/`pull`). */
  onProgress?: ProgressListener;
}

/** Options of {@link Registry.listItems}. */
export interface RegistryListOptions extends RegistryOperationOptions {
  /** Only the versions of this name (BentoML's name, lower-case). @default undefined (every name the registry holds) */
  name?: string;
}

/**
 * One complete item a registry holds, as {@link Registry.listItems} describes it: what it can
 * tell from its own records (an OCI manifest and config blob, a BentoCloud list answer) without
 * downloading the item's content. Every field beyond the reference is optional: a registry fills
 * in what it knows and never guesses.
 */
export interface RegistryListing extends RegistryItemRef {
  /** The item's `creation_time`, in microseconds since the epoch (UTC), as {@link ItemMetadata.creationTime}. */
  creationTime?: number;
  /**
   * Bytes of the item as the registry stores it, a bento without its models: what a
   * {@link Registry.pull} downloads (an OCI layer's size, as {@link Registry.size}), or its
   * content bytes where the registry records only those (BentoCloud's model `size_bytes`).
   */
  size?: number;
  /** Digest of what the registry stores for the item (an OCI manifest's `sha256:…`), to tell two copies apart. */
  digest?: string;
  /** For a bento: the bentoml-registry models it references. Absent for a model, or when the registry does not say. */
  models?: Array<{ name: string; version: string }>;
  /** For a model: its framework module (`bentoml.sklearn`), the `Module` column of `models list`. */
  module?: string;
  /** The item's `bento.yaml`/`model.yaml` document, when the registry keeps it beside the content (OCI: the config blob). */
  document?: Record<string, unknown>;
}

/** Options of {@link Registry.push}. */
export interface RegistryPushOptions extends RegistryOperationOptions {
  /** Replace the remote version even when it exists. Core has already called `has` when this is false. @default false */
  force?: boolean;
}

/**
 * One local item handed to {@link Registry.push}: everything a registry needs, without touching
 * the store itself.
 */
export interface RegistryPushItem {
  ref: RegistryItemRef;
  /**
   * The parsed `bento.yaml`/`model.yaml`: `document` (the full yaml, unchanged), `tag`,
   * `creationTime` (microseconds since the epoch, UTC), `models` (a bento's model references).
   */
  metadata: ItemMetadata;
  /**
   * The item's version directory in the local store (absolute, read-only for the registry), for
   * caches keyed by file identity (path, size, mtime, inode). Never write into it.
   */
  directory: string;
  /**
   * The item's archive entries, exactly as an export builds them: sorted depth first, parents
   * first, every mtime set to the creation time, owners dropped, symlinks kept when they stay
   * inside; a bento WITHOUT its `models/` directory (models are items of their own), a model
   * whole. Each call walks the directory afresh and yields the same sequence, so a plugin may
   * walk once without opening bodies (to compute an uncompressed tar's size in advance, e.g. for
   * a presigned PUT's Content-Length) and again to send it.
   */
  entries(): AsyncIterable<ArchiveEntry>;
  /** Sum of the file bodies' bytes that `entries()` yields (not an archive's size): progress totals. */
  contentBytes: number;
  /**
   * For a bento: the bentoml-registry models it references that are in the local model store,
   * each as a push item of its own. Core pushes each of them (unless the registry `has` it or
   * `--without-models`) BEFORE the bento, so a registry that references model content from the
   * bento (OCI layers) may rely on them being remote already; a registry that stores models
   * separately (BentoCloud) can ignore this list. Empty for a model.
   */
  models: RegistryPushItem[];
}

/** What a push did, for messages and `--json`. Every field is optional. */
export interface RegistryPushResult {
  /** Where the item now lives, credentials removed: `127.0.0.1:5000/team/svc:v1`. */
  location?: string;
  /** Content digest of what was stored, when the registry has one (`sha256:…`). */
  digest?: string;
  /** Bytes actually sent (after dedup). */
  bytesUploaded?: number;
  /** Bytes not sent because the registry already held them. */
  bytesSkipped?: number;
}

/**
 * A push/pull back-end plugin (BentoCloud, an OCI registry). Core drives the flow (local store
 * first, `has` before `push` unless forced, models before their bento, staging + verification +
 * atomic install on pull); a registry only moves one item at a time and never touches the store.
 */
export interface Registry {
  readonly apiVersion: ApiVersion;
  /** The plugin's name, for messages: `registry-oci`. */
  readonly name: string;
  /**
   * The address this instance talks to, credentials removed (`oci://127.0.0.1:5000/team`,
   * `bentocloud://default`), for messages; a string `registry` option or `BENTOPORT_REGISTRY`
   * selects among `createBentoport({ registries })` by this value (or by `name`).
   */
  readonly url: string;
  readonly capabilities: RegistryCapabilities;
  /**
   * True when the registry holds this exact version, complete.
   * @throws {BentoportError} ERR_AUTH when credentials are refused, ERR_IO on network failure.
   */
  has(ref: RegistryItemRef, options?: RegistryOperationOptions): Promise<boolean>;
  /**
   * Upload one item. It becomes visible in the registry only when complete (a failed or aborted
   * push leaves no visible version).
   * @throws {BentoportError} ERR_AUTH, ERR_IO, ERR_ABORTED.
   */
  push(item: RegistryPushItem, options?: RegistryPushOptions): Promise<RegistryPushResult | void>;
  /**
   * Download one item as entries (a bento without `models/`), for core to safe-extract into
   * staging. The iterable must verify what it delivers (digests, sizes) and throw
   * ERR_CORRUPT_ARCHIVE BEFORE it completes when verification fails: core installs only after
   * the iteration finished without error.
   * @throws {BentoportError} ERR_NOT_FOUND when the registry does not hold it (thrown by the
   * first `next()`), ERR_CORRUPT_ARCHIVE, ERR_AUTH, ERR_IO, ERR_ABORTED.
   */
  pull(ref: RegistryItemRef, options?: RegistryOperationOptions): AsyncIterable<ArchiveEntry>;
  /**
   * Optional: the bytes a {@link Registry.pull} of `ref` would download, in the unit of the
   * `bytes` events it sends, when the registry can tell without downloading (a manifest's layer
   * size). Core sums them so a pull's progress has its total before the bytes flow; without it
   * the total grows as each item starts.
   * @returns undefined when unknown.
   * @throws {BentoportError} ERR_NOT_FOUND when the registry does not hold it, ERR_AUTH, ERR_IO.
   */
  size?(ref: RegistryItemRef, options?: RegistryOperationOptions): Promise<number | undefined>;
  /**
   * Optional: the versions of `name` the registry holds (any order).
   * @throws {BentoportError} ERR_NOT_FOUND when it holds none.
   */
  list?(kind: RegistryItemRef['kind'], name: string, options?: RegistryOperationOptions): Promise<string[]>;
  /**
   * Optional, declared by `capabilities.listItems`: the complete items of `kind` the registry
   * holds (every name, or only `options.name`'s versions), in any order, read from the registry's
   * own records without downloading content. An item still being pushed is not listed, and
   * neither is anything the registry holds that is not a bentoport item of `kind` (another
   * tool's image): those are skipped, not errors.
   * @returns an empty array when the registry holds no such item (never ERR_NOT_FOUND: core
   * decides what an empty listing means).
   * @throws {BentoportError} ERR_AUTH when credentials are refused, ERR_IO on network failure or
   * when the registry cannot enumerate its names (an OCI registry without the catalog API: the
   * message says to name the item), ERR_CORRUPT_ARCHIVE when a record the registry serves does
   * not match its digest, ERR_ABORTED when `signal` fires.
   */
  listItems?(kind: RegistryItemRef['kind'], options?: RegistryListOptions): Promise<RegistryListing[]>;
  /**
   * Optional, declared by `capabilities.latestVersion`: the version of `name` a pull of `name` or
   * `name:latest` fetches, the complete one created last (by the item's creation time, or the
   * registry's own notion of newest when it keeps one, as BentoCloud's list order).
   * @throws {BentoportError} ERR_NOT_FOUND when the registry holds no complete version of `name`,
   * ERR_AUTH, ERR_IO, ERR_ABORTED.
   */
  latest?(kind: RegistryItemRef['kind'], name: string, options?: RegistryOperationOptions): Promise<string>;
  /**
   * Optional (`capabilities.signatures`): attach an item's signature file (the signature, then
   * the content manifest it signed) to the item the registry holds. Attaching the same text twice
   * keeps one.
   * @throws {BentoportError} ERR_NOT_FOUND when the registry does not hold the item, ERR_AUTH, ERR_IO.
   */
  putSignature?(ref: RegistryItemRef, signatureText: string, options?: RegistryOperationOptions): Promise<void>;
  /**
   * Optional (`capabilities.signatures`): the newest signature file attached to the item, or
   * undefined when it has none.
   * @throws {BentoportError} ERR_NOT_FOUND when the registry does not hold the item, ERR_CORRUPT_ARCHIVE, ERR_AUTH, ERR_IO.
   */
  getSignature?(ref: RegistryItemRef, options?: RegistryOperationOptions): Promise<string | undefined>;
}
