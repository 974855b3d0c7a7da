import { createHash } from 'node:crypto';
import { isBentoportError, type ArchiveEntry, type RegistryListing, type RegistryPushItem, type RegistryPushOptions, type RegistryPushResult } from '@bentoport/spec';
import { describeRef, itemKey, memoryFailure, type MemoryStore, type StoredEntry } from './memory-store.js';

/** What a push needs besides the item. */
export interface UploadSettings {
  store: MemoryStore;
  url: string;
  dedup: boolean;
  resumable: boolean;
}

interface Counters {
  uploaded: number;
  skipped: number;
}

/**
 * Push one item: every file body is streamed (and counted as sent) chunk by chunk, except what
 * the registry already holds: a blob known from an earlier push of the same local file (dedup), or
 * the part of an upload that broke off (resume). The item becomes visible only at the end.
 */
export async function uploadItem(item: RegistryPushItem, options: RegistryPushOptions, settings: UploadSettings): Promise<RegistryPushResult> {
  const { signal, onProgress } = options;
  const target = describeRef(item.ref);
  const aborted = (): Error => memoryFailure('ERR_ABORTED', 'PUSH', settings.url, target, 'aborted', signal?.reason);
  if (signal?.aborted) throw aborted();
  const counters: Counters = { uploaded: 0, skipped: 0 };
  const report = (): void => onProgress?.({ type: 'bytes', operation: 'push', bytesDone: counters.uploaded, bytesTotal: item.contentBytes });
  const stored: StoredEntry[] = [];
  for await (const entry of item.entries()) {
    if (signal?.aborted) throw aborted();
    const record: StoredEntry = { path: entry.path, type: entry.type, mode: entry.mode, mtime: entry.mtime, size: entry.type === 'file' ? entry.size : 0 };
    if (entry.linkTarget !== undefined) record.linkTarget = entry.linkTarget;
    if (entry.type === 'file') record.digest = await uploadFile(item, entry, { signal, aborted, counters, report }, settings);
    stored.push(record);
  }
  const digest = `sha256:${createHash('sha256').update(JSON.stringify(stored)).digest('hex')}`;
  settings.store.listings.set(itemKey(item.ref), itemListing(item, stored, digest));
  settings.store.items.set(itemKey(item.ref), stored);
  return { location: `${settings.url}/${item.ref.kind}s/${item.ref.name}:${item.ref.version}`, digest, bytesUploaded: counters.uploaded, bytesSkipped: counters.skipped };
}

/** What `listItems` says of a pushed item: its metadata, and the bytes a pull of it sends. */
function itemListing(item: RegistryPushItem, stored: StoredEntry[], digest: string): RegistryListing {
  const { metadata } = item;
  const models = metadata.models.filter((model) => model.registry === 'bentoml').map((model) => ({ name: model.tag.name, version: model.tag.version }));
  return {
    ...item.ref,
    creationTime: metadata.creationTime,
    size: stored.reduce((sum, entry) => sum + entry.size, 0),
    digest,
    ...(item.ref.kind === 'bento' ? { models } : {}),
    ...(item.ref.kind === 'model' && metadata.module !== null ? { module: metadata.module } : {}),
    document: metadata.document,
  };
}

interface UploadProgress {
  signal: AbortSignal | undefined;
  aborted: () => Error;
  counters: Counters;
  report: () => void;
}

function identityOf(item: RegistryPushItem, entry: ArchiveEntry): string {
  return `${item.directory}\0${entry.path}\0${entry.size}\0${entry.mtime}`;
}

/** Send one body (or skip it); returns its digest. A body failing with anything but an abort leaves its partial upload for a resume. */
async function uploadFile(item: RegistryPushItem, entry: ArchiveEntry, progress: UploadProgress, settings: UploadSettings): Promise<string> {
  const { store } = settings;
  const known = settings.dedup ? store.digestCache.get(identityOf(item, entry)) : undefined;
  if (known !== undefined && store.blobs.has(known)) {
    progress.counters.skipped += entry.size;
    return known;
  }
  const partialKey = `${itemKey(item.ref)}\0${entry.path}`;
  const partial = settings.resumable ? store.partialUploads.get(partialKey) : undefined;
  store.partialUploads.delete(partialKey);
  const received: Buffer[] = [];
  let receivedBytes = 0;
  const hash = createHash('sha256');
  try {
    for await (const chunk of entry.open?.() ?? []) {
      if (progress.signal?.aborted) throw progress.aborted();
      const buffer = chunk as Buffer;
      hash.update(buffer);
      // Bytes the registry holds from an upload that broke off are compared, not sent again.
      const alreadyHeld = partial !== undefined && partial.subarray(receivedBytes, receivedBytes + buffer.length).equals(buffer) ? buffer.length : 0;
      received.push(buffer);
      receivedBytes += buffer.length;
      progress.counters.uploaded += buffer.length - alreadyHeld;
      progress.counters.skipped += alreadyHeld;
      progress.report();
    }
  } catch (error) {
    if (settings.resumable && !isBentoportError(error, 'ERR_ABORTED') && !progress.signal?.aborted) store.partialUploads.set(partialKey, Buffer.concat(received));
    throw error;
  }
  const digest = hash.digest('hex');
  store.blobs.set(digest, Buffer.concat(received));
  store.digestCache.set(identityOf(item, entry), digest);
  return digest;
}
