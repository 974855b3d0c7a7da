import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, type HeadObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import type { Location, TransportReadOptions } from '@bentoport/core';
import { objectVerifier, type ObjectVerifier } from './object-checksum.js';
import { withRetries } from './retry.js';
import { resolveTarget, type S3Context, type S3Settings } from './s3-context.js';
import { abortedFailure, fromS3Error, s3Failure, statusOf, throwIfSignalAborted } from './s3-errors.js';
import type { S3Target } from './s3-location.js';

const OPERATION = 'GET';

function checkRange(start: number, end: number, location: Location): void {
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new RangeError(`[transport-s3] GET ${location.display}: start must be a non-negative integer, got ${start}`);
  }
  if (end !== Infinity && (!Number.isSafeInteger(end) || end < start)) {
    throw new RangeError(`[transport-s3] GET ${location.display}: end must be an integer >= start, got ${end}`);
  }
}

/** HeadObject with checksums; a missing key or bucket is ERR_NOT_FOUND. */
export async function headObject(client: S3Client, target: S3Target, location: Location, operation: string, signal: AbortSignal | undefined): Promise<HeadObjectCommandOutput> {
  try {
    return await client.send(
      new HeadObjectCommand({ Bucket: target.bucket, Key: target.key, ChecksumMode: 'ENABLED', ...(target.object.ExpectedBucketOwner ? { ExpectedBucketOwner: target.object.ExpectedBucketOwner } : {}) }),
      { abortSignal: signal },
    );
  } catch (error) {
    throw fromS3Error(error, operation, location, signal);
  }
}

/**
 * Open `[start, end)` of the object: HeadObject first (so a missing key rejects here), then
 * ranged GETs, several in flight, delivered in order. A whole-object read is checked against the
 * checksum the object carries; a mismatch errors the stream with ERR_CORRUPT_ARCHIVE before its end.
 */
export async function openRangedReader(location: Location, options: TransportReadOptions, context: S3Context): Promise<Readable> {
  const { signal } = options;
  const start = options.start ?? 0;
  const requestedEnd = options.end ?? Infinity;
  checkRange(start, requestedEnd, location);
  throwIfSignalAborted(signal, OPERATION, location);
  const { target, client } = await resolveTarget(context, location, OPERATION, signal);
  if (target.key === '' || target.key.endsWith('/')) {
    throw s3Failure('ERR_INVALID_TARGET', OPERATION, location, 'a key ending with / names a directory, not an object');
  }
  const head = await headObject(client, target, location, OPERATION, signal);
  const size = head.ContentLength ?? 0;
  const end = Math.min(requestedEnd, size);
  const whole = start === 0 && end === size;
  let verifier: ObjectVerifier | undefined;
  if (whole && size > 0) {
    try {
      verifier = await objectVerifier(client, target.bucket, target.key, head, size, signal);
    } catch (error) {
      throw fromS3Error(error, OPERATION, location, signal);
    }
  }
  throwIfSignalAborted(signal, OPERATION, location);
  return rangedStream({ client, target, location, signal, settings: context.settings, etag: head.ETag, whole, start, end: Math.max(start, end), verifier });
}

interface RangedStreamParts {
  client: S3Client;
  target: S3Target;
  location: Location;
  signal: AbortSignal | undefined;
  settings: S3Settings;
  etag: string | undefined;
  /** The whole object is read: a first range that covers it needs no Range header. */
  whole: boolean;
  start: number;
  end: number;
  verifier: ObjectVerifier | undefined;
}

/** One range being fetched: its bytes so far, not yet handed on. */
interface RangeTask {
  start: number;
  end: number;
  chunks: Buffer[];
  received: number;
  done: boolean;
  failed: Error | undefined;
}

function rangedStream(parts: RangedStreamParts): Readable {
  const { client, target, location, signal, settings, etag, end, verifier } = parts;
  const requests = new AbortController();
  const retry = { retries: settings.retries, baseDelayMilliseconds: settings.retryDelayMilliseconds, signal: requests.signal };
  const window: RangeTask[] = [];
  let nextStart = parts.start;
  let wanting = false;
  let ended = false;

  /**
   * Fetch the task's bytes; after a broken connection ask again from the last byte received
   * (If-Match keeps every range on the same version of the object).
   */
  async function fetchRange(task: RangeTask): Promise<void> {
    await withRetries(async () => {
      if (task.start + task.received >= task.end) return;
      const from = task.start + task.received;
      // One request for the whole object when it fits in one range: no Range header needed.
      const range = parts.whole && from === 0 && task.end === end ? undefined : `bytes=${from}-${task.end - 1}`;
      const response = await client.send(
        new GetObjectCommand({ Bucket: target.bucket, Key: target.key, ...(range ? { Range: range } : {}), ...(etag ? { IfMatch: etag } : {}) }),
        { abortSignal: requests.signal },
      );
      const body = response.Body as Readable | undefined;
      if (body === undefined) throw s3Failure('ERR_IO', OPERATION, location, 'GetObject returned no body');
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          const usable = chunk.subarray(0, Math.max(0, task.end - task.start - task.received));
          if (usable.length > 0) {
            task.chunks.push(usable);
            task.received += usable.length;
            if (task === window[0]) deliver();
          }
        }
      } finally {
        body.destroy();
      }
      if (task.start + task.received < task.end) {
        // A body shorter than asked for: the connection ended early. Retried from where it stopped.
        throw Object.assign(new Error(`the response ended after ${task.received} of ${task.end - task.start} bytes`), { code: 'ECONNRESET' });
      }
    }, retry);
  }

  function fill(): void {
    while (window.length < settings.rangesInFlight && nextStart < end) {
      const task: RangeTask = { start: nextStart, end: Math.min(end, nextStart + settings.rangeSize), chunks: [], received: 0, done: false, failed: undefined };
      nextStart = task.end;
      window.push(task);
      fetchRange(task).then(
        () => {
          task.done = true;
          if (task === window[0]) deliver();
        },
        (error: unknown) => {
          task.failed = statusOf(error) === 412
            ? s3Failure('ERR_IO', OPERATION, location, 'the object changed while it was being read (412 Precondition Failed)', error)
            : fromS3Error(error, OPERATION, location, signal);
          if (task === window[0]) deliver();
        },
      );
    }
  }

  /** Hand on what the head of the window has, while the consumer wants more. */
  function deliver(): void {
    if (stream.destroyed) return;
    while (wanting) {
      const head = window[0];
      if (head === undefined) {
        finish();
        return;
      }
      if (head.failed !== undefined) {
        stream.destroy(head.failed);
        return;
      }
      const chunk = head.chunks.shift();
      if (chunk !== undefined) {
        verifier?.update(chunk);
        wanting = stream.push(chunk);
        continue;
      }
      if (!head.done) return;
      window.shift();
      fill();
    }
  }

  function finish(): void {
    if (ended) return;
    ended = true;
    const mismatch = verifier?.finish();
    if (mismatch !== undefined) {
      stream.destroy(s3Failure('ERR_CORRUPT_ARCHIVE', OPERATION, location, mismatch));
      return;
    }
    stream.push(null);
    wanting = false;
  }

  const stream = new Readable({
    read() {
      wanting = true;
      if (window.length === 0 && nextStart >= end) {
        finish();
        return;
      }
      fill();
      deliver();
    },
    destroy(error, callback) {
      signal?.removeEventListener('abort', onAbort);
      requests.abort(error ?? new Error('the read stream was destroyed'));
      window.length = 0;
      callback(error);
    },
  });
  function onAbort(): void {
    stream.destroy(abortedFailure(OPERATION, location, signal));
  }
  signal?.addEventListener('abort', onAbort, { once: true });
  return stream;
}
