import { Transform, pipeline, type Readable } from 'node:stream';
import { BentoportError, backoffDelay, delayUnlessAborted } from '@bentoport/core';
import { CloudApi, type CloudItem, type ItemKind } from './cloud-api.js';
import { COMPONENT, isRetryable } from './cloud-errors.js';

export interface RetryPolicy {
  /** Attempts per part or request, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface UploadTarget {
  api: CloudApi;
  kind: ItemKind;
  name: string;
  version: string;
  /** `bento "svc:v1"`, for messages. */
  what: string;
  signal?: AbortSignal | undefined;
  retry: RetryPolicy;
  onBytes: (bytesDone: number) => void;
}

/**
 * Run `attempt` until it succeeds, retrying network errors and 5xx answers with exponential
 * backoff and jitter (BentoML retries only bad statuses, at once, and never network errors).
 */
export async function withRetries<T>(policy: RetryPolicy, signal: AbortSignal | undefined, attempt: (attemptNumber: number) => Promise<T>): Promise<T> {
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (attemptNumber >= policy.attempts || !isRetryable(error) || signal?.aborted) throw error;
      try {
        await delayUnlessAborted(backoffDelay(attemptNumber, { baseMilliseconds: policy.baseDelayMs, maxMilliseconds: policy.maxDelayMs }), signal);
      } catch {
        throw error;
      }
    }
  }
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
  await withRetries(target.retry, target.signal, async () => {
    await target.api.presignedPut(presignedUrl, counting(openBody(), target.onBytes), length, target.what, { signal: target.signal });
  });
}

export interface MultipartSettings {
  partSize: number;
  concurrency: number;
}

/**
 * Multipart strategy (spec §5.3 step 11, with §8 e fixed): parts are cut from the tar stream
 * as it is produced, each held in memory only while it uploads (at most `concurrency` parts plus
 * the one being filled), retried with backoff on network errors and 5xx; when a part fails for
 * good, reading stops and `complete_multipart_upload` is never sent.
 */
export async function multipartUpload(target: UploadTarget, body: Readable, length: number, settings: MultipartSettings): Promise<void> {
  const itemPath = CloudApi.itemPath(target.kind, target.name, target.version);
  const started = await target.api.call<CloudItem>('PATCH', `${itemPath}/start_multipart_upload`, undefined, { signal: target.signal });
  const uploadId = started?.upload_id;
  if (!uploadId) throw new BentoportError('ERR_IO', `[${COMPONENT}] Failed to start multipart upload for ${target.what}, upload_id is empty`);

  // S3 allows 10,000 parts: grow the part size for very large items rather than fail at the end.
  const partSize = Math.max(settings.partSize, Math.ceil(length / 10_000));
  const etags: string[] = [];
  const running = new Set<Promise<void>>();
  let failure: unknown;
  let uploadedBytes = 0;

  const uploadPart = async (partNumber: number, bytes: Buffer): Promise<void> => {
    const etag = await withRetries(target.retry, target.signal, async () => {
      const presigned = await target.api.call<CloudItem>(
        'PATCH',
        `${itemPath}/presign_multipart_upload_url`,
        { upload_id: uploadId, part_number: partNumber },
        { signal: target.signal },
      );
      const url = presigned?.presigned_upload_url;
      if (!url) throw new BentoportError('ERR_IO', `[${COMPONENT}] presign part ${partNumber} of ${target.what}: BentoCloud returned no URL`);
      return target.api.presignedPut(url, bytes, bytes.length, `${target.what} part ${partNumber}`, { signal: target.signal });
    });
    if (!etag) throw new BentoportError('ERR_IO', `[${COMPONENT}] upload part ${partNumber} of ${target.what}: the storage returned no ETag`);
    etags[partNumber - 1] = etag;
    uploadedBytes += bytes.length;
    target.onBytes(uploadedBytes);
  };

  const launch = async (partNumber: number, bytes: Buffer): Promise<void> => {
    while (running.size >= settings.concurrency && failure === undefined) await Promise.race(running);
    if (failure !== undefined) return;
    const task: Promise<void> = uploadPart(partNumber, bytes)
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => running.delete(task));
    running.add(task);
  };

  let partNumber = 0;
  let totalRead = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      totalRead += chunk.length;
      let rest = chunk;
      while (rest.length > 0) {
        const take = Math.min(rest.length, partSize - pendingBytes);
        pending.push(take === rest.length ? rest : rest.subarray(0, take));
        pendingBytes += take;
        rest = rest.subarray(take);
        if (pendingBytes === partSize) {
          partNumber++;
          const bytes = Buffer.concat(pending, pendingBytes);
          pending = [];
          pendingBytes = 0;
          await launch(partNumber, bytes);
          if (failure !== undefined) break;
        }
      }
      if (failure !== undefined) break;
    }
    if (failure === undefined && (pendingBytes > 0 || partNumber === 0)) {
      partNumber++;
      await launch(partNumber, Buffer.concat(pending, pendingBytes));
    }
  } catch (error) {
    failure ??= error;
  } finally {
    if (failure !== undefined) body.destroy();
    await Promise.allSettled([...running]);
  }
  if (failure !== undefined) throw failure;
  if (totalRead !== length) {
    throw new BentoportError('ERR_IO', `[${COMPONENT}] upload ${target.what}: the tar stream has ${totalRead} bytes, ${length} were announced`);
  }
  await target.api.call(
    'PATCH',
    `${itemPath}/complete_multipart_upload`,
    { parts: etags.map((etag, index) => ({ part_number: index + 1, etag })), upload_id: uploadId },
    { signal: target.signal },
  );
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
