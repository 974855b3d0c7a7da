import { Transform, pipeline, type Readable } from 'node:stream';
import { BentoportError } from '@bentoport/spec';
import { withRetry, type RetryOptions } from '@bentoport/plugin-kit';
import { CloudApi, type CloudItem, type ItemKind } from './cloud-api.js';
import { COMPONENT } from './cloud-errors.js';

export interface UploadTarget {
  api: CloudApi;
  kind: ItemKind;
  name: string;
  version: string;
  /** `bento "svc:v1"`, for messages. */
  what: string;
  signal?: AbortSignal | undefined;
  /** Retries of each part or single PUT on transient failures (network errors, 408, 429, 5xx). */
  retry: Pick<RetryOptions, 'retries' | 'retryDelayMs'>;
  onBytes: (bytesDone: number) => void;
}

/** `withRetry` with the target's retry settings and signal. */
function retried<T>(target: UploadTarget, attempt: () => Promise<T>): Promise<T> {
  return withRetry(attempt, { ...target.retry, ...(target.signal ? { signal: target.signal } : {}) });
}

/** Proxy strategy: the tar goes through BentoCloud's API. A stream cannot be replayed, so one attempt. */
export async function proxyUpload(target: UploadTarget, body: Readable, length: number): Promise<void> {
  await target.api.proxyUpload(target.kind, target.name, target.version, counting(body, target.onBytes), length, { signal: target.signal });
}

/**
 * Single presigned PUT with the exact Content-Length known in advance. A failed attempt is
 * retried by encoding the item again from its first byte (`openBody` walks the store afresh).
 */
export async function singlePresignedUpload(target: UploadTarget, presignedUrl: string, openBody: () => Readable, length: number): Promise<void> {
  await retried(target, async () => {
    await target.api.presignedPut(presignedUrl, counting(openBody(), target.onBytes), length, target.what, { signal: target.signal });
  });
}

export interface MultipartSettings {
  partSize: number;
  concurrency: number;
}

/** Parts of `partSize` bytes (the last one shorter, and one empty part for an empty stream), numbered from 1. */
async function* partsOf(body: Readable, partSize: number): AsyncGenerator<{ partNumber: number; bytes: Buffer }> {
  let partNumber = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    let rest = chunk;
    while (rest.length > 0) {
      const take = Math.min(rest.length, partSize - pendingBytes);
      pending.push(take === rest.length ? rest : rest.subarray(0, take));
      pendingBytes += take;
      rest = rest.subarray(take);
      if (pendingBytes === partSize) {
        yield { partNumber: ++partNumber, bytes: Buffer.concat(pending, pendingBytes) };
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (pendingBytes > 0 || partNumber === 0) yield { partNumber: ++partNumber, bytes: Buffer.concat(pending, pendingBytes) };
}

/** Presign one part and PUT it, retried as a whole (a new URL each time); returns its ETag. */
async function uploadPart(target: UploadTarget, itemPath: string, uploadId: string, partNumber: number, bytes: Buffer): Promise<string> {
  const etag = await retried(target, async () => {
    const presigned = await target.api.call<CloudItem>('PATCH', `${itemPath}/presign_multipart_upload_url`, { upload_id: uploadId, part_number: partNumber }, { signal: target.signal });
    const url = presigned?.presigned_upload_url;
    if (!url) throw new BentoportError('ERR_IO', `[${COMPONENT}] presign part ${partNumber} of ${target.what}: BentoCloud returned no URL`);
    return target.api.presignedPut(url, bytes, bytes.length, `${target.what} part ${partNumber}`, { signal: target.signal });
  });
  if (!etag) throw new BentoportError('ERR_IO', `[${COMPONENT}] upload part ${partNumber} of ${target.what}: the storage returned no ETag`);
  return etag;
}

/** Tasks run at most `concurrency` at a time; the first failure stops new ones and is kept. */
class PartQueue {
  private readonly running = new Set<Promise<void>>();
  failure: unknown;

  constructor(private readonly concurrency: number) {}

  /** Wait for a free slot, then start `task` (nothing once a task has failed). */
  async launch(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.concurrency && this.failure === undefined) await Promise.race(this.running);
    if (this.failure !== undefined) return;
    const running: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= error;
      })
      .finally(() => this.running.delete(running));
    this.running.add(running);
  }

  async settle(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}

/**
 * Multipart strategy, BentoML's with one fix (BentoML completes an upload even after a part
 * failed): parts are cut from the tar stream
 * as it is produced, each held in memory only while it uploads (at most `concurrency` parts plus
 * the one being filled), retried with backoff on transient failures; when a part fails for good,
 * reading stops and `complete_multipart_upload` is never sent.
 */
export async function multipartUpload(target: UploadTarget, openBody: () => Readable, length: number, settings: MultipartSettings): Promise<void> {
  const itemPath = CloudApi.itemPath(target.kind, target.name, target.version);
  // Not cancelled mid-flight (timeoutMs still bounds it): BentoCloud creates the storage's upload
  // whether or not we wait, and the failed finish_upload a stop sends aborts only an upload whose
  // start BentoCloud has finished recording.
  const started = await target.api.call<CloudItem>('PATCH', `${itemPath}/start_multipart_upload`, undefined, {});
  target.signal?.throwIfAborted();
  const uploadId = started?.upload_id;
  if (!uploadId) throw new BentoportError('ERR_IO', `[${COMPONENT}] Failed to start multipart upload for ${target.what}, upload_id is empty`);
  // Opened only now that it is read at once: a tar stream opened earlier and left unread when the
  // start fails or is aborted would emit its abort error to no listener, an uncaught exception.
  const body = openBody();

  // S3 allows 10,000 parts: grow the part size for very large items rather than fail at the end.
  const partSize = Math.max(settings.partSize, Math.ceil(length / 10_000));
  const etags: string[] = [];
  const queue = new PartQueue(settings.concurrency);
  let totalRead = 0;
  let uploadedBytes = 0;
  try {
    for await (const { partNumber, bytes } of partsOf(body, partSize)) {
      totalRead += bytes.length;
      await queue.launch(async () => {
        etags[partNumber - 1] = await uploadPart(target, itemPath, uploadId, partNumber, bytes);
        uploadedBytes += bytes.length;
        target.onBytes(uploadedBytes);
      });
      if (queue.failure !== undefined) break;
    }
  } catch (error) {
    queue.failure ??= error;
  } finally {
    if (queue.failure !== undefined) body.destroy();
    await queue.settle();
  }
  if (queue.failure !== undefined) throw queue.failure;
  if (totalRead !== length) {
    throw new BentoportError('ERR_IO', `[${COMPONENT}] upload ${target.what}: the tar stream has ${totalRead} bytes, ${length} were announced`);
  }
  const parts = etags.map((etag, index) => ({ part_number: index + 1, etag }));
  await target.api.call('PATCH', `${itemPath}/complete_multipart_upload`, { parts, upload_id: uploadId }, { signal: target.signal });
}

/** The same bytes, counted as they are consumed (not as they are produced: that is the upload's pace). */
function counting(body: Readable, onBytes: (bytesDone: number) => void): Readable {
  let done = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      done += chunk.length;
      onBytes(done);
      callback(null, chunk);
    },
  });
  // pipeline destroys the counter with the source's error, so the request fails with it.
  return pipeline(body, counter, () => undefined);
}
