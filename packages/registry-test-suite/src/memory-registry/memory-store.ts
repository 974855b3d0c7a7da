import { BentoportError, type ArchiveEntry, type ErrorCode, type RegistryItemRef, type RegistryListing } from '@bentoport/spec';

export const COMPONENT = 'registry-memory';

/** An entry as stored: its metadata and, for a file, the digest of its blob. */
export type StoredEntry = Pick<ArchiveEntry, 'path' | 'type' | 'mode' | 'mtime' | 'size' | 'linkTarget'> & { digest?: string };

/** What one memory registry holds. Items become visible only when a push completes. */
export interface MemoryStore {
  /** `kind/name/version` → the entries of a complete item. */
  readonly items: Map<string, StoredEntry[]>;
  /** `kind/name/version` → what `listItems` says of a complete item; its creation time is what `latest` goes by. */
  readonly listings: Map<string, RegistryListing>;
  /** SHA-256 → bytes: content-addressed, shared by every item (what dedup saves). */
  readonly blobs: Map<string, Buffer>;
  /**
   * `kind/name/version` + `\0` + entry path → the bytes of an upload that broke off: what the next
   * push of that item does not send again.
   */
  readonly partialUploads: Map<string, Buffer>;
  /** Local file identity (`directory\0path\0size\0mtime`) → digest: files already hashed and sent. */
  readonly digestCache: Map<string, string>;
}

export function newStore(): MemoryStore {
  return { items: new Map(), listings: new Map(), blobs: new Map(), partialUploads: new Map(), digestCache: new Map() };
}

export function itemKey(ref: RegistryItemRef): string {
  return `${ref.kind}/${ref.name}/${ref.version}`;
}

/** `[registry-memory] PUSH memory://1 model iris:v1: reason` */
export function memoryFailure(code: ErrorCode, operation: string, url: string, target: string, reason: string, cause?: unknown): BentoportError {
  return new BentoportError(code, `[${COMPONENT}] ${operation} ${url} ${target}: ${reason}`, cause === undefined ? {} : { cause });
}

export function describeRef(ref: RegistryItemRef): string {
  return `${ref.kind} ${ref.name}:${ref.version}`;
}
