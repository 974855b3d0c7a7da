import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, type HeadObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { abortedFailure, checkReadRange, parallelRanges, pluginFailure, throwIfAborted, withRetry } from '@bentoport/plugin-kit';
import type { Location, TransportReadOptions } from '@bentoport/spec';
import { objectVerifier, type ObjectVerifier } from './object-checksum.js';
import { resolveTarget, retryOptions, type S3Context, type S3Settings } from './s3-context.js';
import { COMPONENT, s3Failure, statusOf } from './s3-failure.js';
import type { S3Target } from './s3-location.js';

const OPERATION = 'GET';

/** The object a request is about: where it is, how to reach it, how to retry. */
export interface ObjectRequest {
  client: S3Client;
  target: S3Target;
  location: Location;
  settings: S3Settings;
}

/** HeadObject with checksums, retried; a missing key or bucket is ERR_NOT_FOUND. */
export async function headObject(request: ObjectRequest, operation: string, signal: AbortSignal | undefined): Promise<HeadObjectCommandOutput> {
  const { client, target, location, settings } = request;
  const owner = target.object.ExpectedBucketOwner ? { ExpectedBucketOwner: target.object.ExpectedBucketOwner } : {};
  try {
    return await withRetry(
      () => client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: target.key, ChecksumMode: 'ENABLED', ...owner }), { abortSignal: signal }),
      retryOptions(settings, signal),
    );
  } catch (error) {
    throw s3Failure(error, operation, location.display, signal);
  }
}

/**
 * Open `[start, end)` of the object: HeadObject first (so a missing key rejects here), then
 * ranged GETs, several in flight, delivered in order. A whole-object read is checked against the
 * checksum the object carries; a mismatch errors the stream with ERR_CORRUPT_ARCHIVE before its end.
 */
export async function openRangedReader(location: Location, options: TransportReadOptions, context: S3Context): Promise<Readable> {
  const { signal } = options;
  const { start, end: requestedEnd } = checkReadRange(COMPONENT, OPERATION, location.display, options);
  throwIfAborted(signal, COMPONENT, OPERATION, location.display);
  const { target, client } = await resolveTarget(context, location, OPERATION, signal);
  if (target.key === '' || target.key.endsWith('/')) {
    throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', OPERATION, location.display, 'a key ending with / names a directory, not an object');
  }
  const head = await headObject({ client, target, location, settings: context.settings }, OPERATION, signal);
  const size = head.ContentLength ?? 0;
  const end = Math.min(requestedEnd, size);
  const whole = start === 0 && end === size;
  let verifier: ObjectVerifier | undefined;
  if (whole && size > 0) {
    try {
      verifier = await objectVerifier(client, target.bucket, target.key, head, size, signal);
    } catch (error) {
      throw s3Failure(error, OPERATION, location.display, signal);
    }
  }
  throwIfAborted(signal, COMPONENT, OPERATION, location.display);
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

function rangedStream(parts: RangedStreamParts): Readable {
  const { client, target, location, signal, settings, etag, end, verifier } = parts;

  /**
   * Fetch `[rangeStart, rangeEnd)`; after a broken connection ask again from the last byte
   * received (If-Match keeps every range on the same version of the object).
   */
  async function fetchRange(rangeStart: number, rangeEnd: number, onChunk: (chunk: Buffer) => void, requests: AbortSignal): Promise<void> {
    let received = 0;
    await withRetry(async () => {
      if (rangeStart + received >= rangeEnd) return;
      const from = rangeStart + received;
      // One request for the whole object when it fits in one range: no Range header needed.
      const range = parts.whole && from === 0 && rangeEnd === end ? undefined : `bytes=${from}-${rangeEnd - 1}`;
      const response = await client.send(
        new GetObjectCommand({ Bucket: target.bucket, Key: target.key, ...(range ? { Range: range } : {}), ...(etag ? { IfMatch: etag } : {}) }),
        { abortSignal: requests },
      );
      const body = response.Body as Readable | undefined;
      if (body === undefined) throw pluginFailure(COMPONENT, 'ERR_IO', OPERATION, location.display, 'GetObject returned no body');
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          const usable = chunk.subarray(0, Math.max(0, rangeEnd - rangeStart - received));
          if (usable.length > 0) {
            received += usable.length;
            onChunk(usable);
          }
        }
      } finally {
        body.destroy();
      }
      if (rangeStart + received < rangeEnd) {
        // A body shorter than asked for: the connection ended early. Retried from where it stopped.
        throw Object.assign(new Error(`the response ended after ${received} of ${rangeEnd - rangeStart} bytes`), { code: 'ECONNRESET' });
      }
    }, retryOptions(settings, requests));
  }

  const stream = parallelRanges({
    start: parts.start,
    end,
    rangeSize: settings.rangeSize,
    rangesInFlight: settings.rangesInFlight,
    fetchRange,
    failure: (error) =>
      statusOf(error) === 412
        ? pluginFailure(COMPONENT, 'ERR_IO', OPERATION, location.display, 'the object changed while it was being read (412 Precondition Failed)', { cause: error })
        : s3Failure(error, OPERATION, location.display, signal),
    ...(verifier === undefined
      ? {}
      : {
          onDeliver: (chunk: Buffer) => verifier.update(chunk),
          beforeEnd: () => {
            const mismatch = verifier.finish();
            return mismatch === undefined ? undefined : pluginFailure(COMPONENT, 'ERR_CORRUPT_ARCHIVE', OPERATION, location.display, mismatch);
          },
        }),
  });
  function onAbort(): void {
    stream.destroy(abortedFailure(COMPONENT, OPERATION, location.display, signal));
  }
  signal?.addEventListener('abort', onAbort, { once: true });
  stream.once('close', () => signal?.removeEventListener('abort', onAbort));
  return stream;
}
