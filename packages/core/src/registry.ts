import type { ArchiveEntry } from './archive-entry.js';
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
}

export interface RegistryOperationOptions {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/**
 * A push/pull back-end plugin (BentoCloud, an OCI registry).
 *
 * Core hands `push` the item's entries (as an export would produce them, without `models/` for a
 * bento) and safe-extracts what `pull` yields, so a registry never touches the local store.
 */
export interface Registry {
  readonly apiVersion: 1;
  /** The plugin's name, for messages: `registry-oci`. */
  readonly name: string;
  readonly capabilities: RegistryCapabilities;
  /** True when the registry holds this exact version, complete. */
  has(ref: RegistryItemRef, options?: RegistryOperationOptions): Promise<boolean>;
  /** Upload one item. It becomes visible in the registry only when complete. */
  push(ref: RegistryItemRef, entries: AsyncIterable<ArchiveEntry>, options?: RegistryOperationOptions): Promise<void>;
  /**
   * Download one item as entries.
   * @throws {BentoportError} ERR_NOT_FOUND when the registry does not hold it.
   */
  pull(ref: RegistryItemRef, options?: RegistryOperationOptions): AsyncIterable<ArchiveEntry>;
}
