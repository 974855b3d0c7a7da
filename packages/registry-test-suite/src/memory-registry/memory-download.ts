import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ArchiveEntry, RegistryItemRef, RegistryOperationOptions } from '@bentoport/spec';
import { describeRef, itemKey, memoryFailure, type MemoryStore, type StoredEntry } from './memory-store.js';

const CHUNK = 64 * 1024;

/**
 * A blob as a stream of chunks pushed on demand, verified against its digest before it ends (a
 * pull must fail with ERR_CORRUPT_ARCHIVE before it completes), failing with ERR_ABORTED when the
 * signal fires.
 */
function blobStream(blob: Buffer, entry: StoredEntry, fail: (code: 'ERR_ABORTED' | 'ERR_CORRUPT_ARCHIVE', reason: string) => Error, signal: AbortSignal | undefined): Readable {
  let offset = 0;
  const hash = createHash('sha256');
  const stream = new Readable({
    highWaterMark: CHUNK,
    read() {
      if (signal?.aborted) {
        this.destroy(fail('ERR_ABORTED', 'aborted'));
        return;
      }
      if (offset >= blob.length) {
        if (hash.digest('hex') !== entry.digest) this.destroy(fail('ERR_CORRUPT_ARCHIVE', `${entry.path} does not match its digest`));
        else this.push(null);
        return;
      }
      const chunk = Buffer.from(blob.subarray(offset, offset + CHUNK));
      offset += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  if (signal !== undefined) {
    const onAbort = (): void => void stream.destroy(fail('ERR_ABORTED', 'aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    stream.once('close', () => signal.removeEventListener('abort', onAbort));
  }
  return stream;
}

/** The entries of a complete item; ERR_NOT_FOUND from the first `next()` when there is none. */
export async function* downloadItem(ref: RegistryItemRef, options: RegistryOperationOptions, store: MemoryStore, url: string): AsyncGenerator<ArchiveEntry> {
  const { signal } = options;
  const target = describeRef(ref);
  const fail = (code: 'ERR_ABORTED' | 'ERR_CORRUPT_ARCHIVE' | 'ERR_NOT_FOUND', reason: string): Error => memoryFailure(code, 'PULL', url, target, reason, code === 'ERR_ABORTED' ? signal?.reason : undefined);
  if (signal?.aborted) throw fail('ERR_ABORTED', 'aborted');
  const stored = store.items.get(itemKey(ref));
  if (stored === undefined) throw fail('ERR_NOT_FOUND', 'no such item');
  let bytesDone = 0;
  for (const entry of stored) {
    if (signal?.aborted) throw fail('ERR_ABORTED', 'aborted');
    const { digest, ...metadata } = entry;
    if (digest === undefined) {
      yield metadata;
      continue;
    }
    const blob = store.blobs.get(digest);
    if (blob === undefined) throw fail('ERR_CORRUPT_ARCHIVE', `the blob of ${entry.path} is missing`);
    yield { ...metadata, open: () => blobStream(blob, entry, fail, signal) };
    bytesDone += blob.length;
    options.onProgress?.({ type: 'bytes', operation: 'pull', bytesDone });
  }
}
