import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { pluginFailure, throwIfAborted, twoPhaseWriter, withRetry, type RecordedUpload, type RetryOptions, type UploadJournal } from '@bentoport/plugin-kit';
import type { Location, TransportWriteOptions, TransportWriter } from '@bentoport/spec';
import { claimedByOthers, isUncertain, removeWriterUploads, windowDetails, type CreateWindow } from './created-uploads.js';
import { MAX_PARTS, partSizeFor } from './part-size.js';
import { forgetAdopted, removeStaleUploads, uploadScope, type StaleUploadSweep } from './stale-uploads.js';
import { findUnfinishedUpload, partMatches, type UnfinishedUpload } from './unfinished-upload.js';
import { resolveTarget, retryOptions, type S3Context, type S3Settings } from './s3-context.js';
import { COMPONENT, errorNameOf, isRetryableS3Error, s3Failure } from './s3-failure.js';
import type { S3Target } from './s3-location.js';

/** The write options (`resume` included). */
export type S3WriteOptions = TransportWriteOptions;

/** What a resumed write skipped, for tests and progress messages. */
export interface ResumeReport {
  uploadId: string | undefined;
  partsSkipped: number;
  bytesSkipped: number;
}

/** A TransportWriter with what the S3 writer can tell about itself. */
export interface S3TransportWriter extends TransportWriter {
  readonly resumed: ResumeReport;
}

const OPERATION = 'PUT';
/** Rounds of AbortMultipartUpload + ListParts until no part is left (S3 may keep a part that was in flight). */
const ABORT_ROUNDS = 3;
/**
 * Retries the removal of a failed write's upload gets beyond the transport's `retries`: with the
 * doubling backoff that is about four times as long a wait. Why: it is the last chance to remove
 * the upload before only the next write to the key can, and the failure it follows is often an
 * S3 that is briefly unreachable (a restart), which outlasted the write's own retries.
 */
const CLEANUP_EXTRA_RETRIES = 2;

/**
 * How a failed or finished write removes what it made: more patient than a request, deaf to the
 * write's signal (it runs after it fired), but done within `timeoutMs` in all: against an S3 that
 * stalls, six attempts of `timeoutMs` each would keep a failed export running for minutes after
 * its failure (the soak: past 240 s). What is not removed by then keeps its record, for the next
 * write to the key. Call once per clean-up: the deadline starts here.
 */
function cleanupRetry(settings: S3Settings): RetryOptions {
  return { retries: settings.retries + CLEANUP_EXTRA_RETRIES, retryDelayMs: settings.retryDelayMs, isRetryable: isRetryableS3Error, signal: AbortSignal.timeout(settings.timeoutMs) };
}

/**
 * A body's SHA-256 once, in the two spellings S3 wants: base64 for the part checksum the server
 * checks, hex for SigV4's `x-amz-content-sha256`. The signer otherwise hashes every body again
 * itself: a third SHA-256 pass over the archive (with our digest and the part checksum), 0.6 s of
 * main-thread CPU per GiB.
 */
function bodyDigest(body: Buffer): { base64: string; hex: string } {
  const digest = createHash('sha256').update(body).digest();
  return { base64: digest.toString('base64'), hex: digest.toString('hex') };
}

/** The part of a command's middleware stack that {@link withPayloadHash} uses. */
interface BuildStep {
  middlewareStack: {
    add(
      middleware: (next: (args: { request: unknown }) => Promise<unknown>) => (args: { request: unknown }) => Promise<unknown>,
      options: { step: 'build'; name: string },
    ): void;
  };
}

/** `command` with its payload hash given, so the signer does not hash the body again. */
function withPayloadHash<C extends UploadPartCommand | PutObjectCommand>(command: C, hex: string | undefined): C {
  if (hex === undefined) return command;
  (command as unknown as BuildStep).middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers !== undefined) request.headers['x-amz-content-sha256'] = hex;
      return next(args);
    },
    { step: 'build', name: 'bentoportPayloadHash' },
  );
  return command;
}

/**
 * Start a write: bytes go to a multipart upload as soon as a part is full, at most
 * `partsInFlight` parts at once; an object smaller than one part is sent with one PutObject at
 * commit. Nothing is visible at the key before `commit()` (CompleteMultipartUpload / PutObject).
 */
export async function openMultipartWriter(location: Location, options: S3WriteOptions, context: S3Context): Promise<S3TransportWriter> {
  const { signal } = options;
  throwIfAborted(signal, COMPONENT, OPERATION, location.display);
  const { target, client, endpoint } = await resolveTarget(context, location, OPERATION, signal);
  if (target.key === '' || target.key.endsWith('/')) {
    throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', OPERATION, location.display, 'a key ending with / names a directory, not an object');
  }
  const sweep: StaleUploadSweep = {
    client,
    target,
    journal: context.journal,
    scope: uploadScope(endpoint, target),
    display: location.display,
    resume: options.resume === true,
    onProgress: options.onProgress,
    signal,
    abort: (uploadId) => abortUpload(client, target.bucket, target.key, uploadId),
  };
  await removeStaleUploads(sweep);
  let unfinished: UnfinishedUpload | undefined;
  if (options.resume === true) {
    try {
      unfinished = await withRetry(() => findUnfinishedUpload(client, target, signal), retryOptions(context.settings, signal));
    } catch (error) {
      throw s3Failure(error, OPERATION, location.display, signal);
    }
    // An upload made with another checksum algorithm cannot take our SHA-256 parts.
    if (unfinished?.checksumAlgorithm !== undefined && unfinished.checksumAlgorithm !== (context.settings.partChecksums ? 'SHA256' : undefined)) {
      unfinished = undefined;
    }
    await forgetAdopted(sweep, unfinished?.uploadId);
  }
  throwIfAborted(signal, COMPONENT, OPERATION, location.display);
  return multipartWriter({ location, target, client, options, settings: context.settings, unfinished, journal: context.journal, scope: sweep.scope });
}

interface WriterParts {
  location: Location;
  target: S3Target;
  client: S3Client;
  options: S3WriteOptions;
  settings: S3Settings;
  unfinished: UnfinishedUpload | undefined;
  journal: UploadJournal;
  /** The journal's scope of this key. */
  scope: string;
}

function multipartWriter(parts: WriterParts): S3TransportWriter {
  const { location, target, client, options, settings, unfinished, journal, scope } = parts;
  const { signal, sizeHint } = options;
  const resume = options.resume === true;
  const { Bucket, Key } = { Bucket: target.bucket, Key: target.key };
  /** Cancels requests in flight when the write is aborted or its stream destroyed. */
  const requests = new AbortController();
  const retry = retryOptions(settings, requests.signal);
  const completed = new Map<number, CompletedPart>();
  const inFlight = new Set<Promise<void>>();
  const resumed: ResumeReport = { uploadId: unfinished?.uploadId, partsSkipped: 0, bytesSkipped: 0 };
  let uploadId: Promise<string> | undefined = unfinished === undefined ? undefined : Promise.resolve(unfinished.uploadId);
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let nextPart = 1;
  let smallBody: Buffer | undefined;
  let failure: Error | undefined;
  /** The journal's record of the upload; set once it is recorded. */
  let recorded: Promise<RecordedUpload> | undefined;
  /** When CreateMultipartUpload was asked, and how often; undefined for a continued upload. */
  let createWindow: CreateWindow | undefined;
  /** The id CreateMultipartUpload answered, once it has. */
  let createdId: string | undefined;

  /** Write the upload down for the next run's sweep, in case this process is killed. */
  function recordUpload(id: string, details: Record<string, string> = {}): void {
    recorded ??= journal.record({ component: COMPONENT, scope, upload: id, details: { resume: String(resume), bucket: Bucket, key: Key, ...details } });
  }

  async function forgetRecordedUpload(): Promise<void> {
    await (await recorded)?.remove();
  }
  // A continued upload is this write's from now on (the sweep dropped the dead writer's record).
  if (unfinished !== undefined) recordUpload(unfinished.uploadId);

  /** Take exactly `length` bytes off the front of what is pending, in one buffer. */
  /**
   * Part buffers of the current part size, reused once their part is uploaded. Why: a new 8 MiB
   * buffer per part counts against V8's external-memory budget, and 1 GiB of them set off about
   * a hundred full garbage collections (a second of main-thread time) although the heap held
   * 12 MB. At most partsInFlight + 1 exist, as before.
   */
  let partBuffers: Buffer[] = [];
  function partBuffer(length: number): Buffer {
    const size = partSizeFor(nextPart, settings.partSize, sizeHint);
    if (length !== size) return Buffer.allocUnsafeSlow(length); // the last part, or a single PutObject
    if (partBuffers[0]?.length !== size) partBuffers = [];
    return partBuffers.pop() ?? Buffer.allocUnsafeSlow(size);
  }
  function recycle(body: Buffer): void {
    if (body.length === partSizeFor(nextPart, settings.partSize, sizeHint) && partBuffers.length <= settings.partsInFlight) partBuffers.push(body);
  }

  function take(length: number): Buffer {
    const body = partBuffer(length);
    let offset = 0;
    while (offset < length) {
      const chunk = pending[0] as Buffer;
      const needed = length - offset;
      if (chunk.length <= needed) {
        chunk.copy(body, offset);
        offset += chunk.length;
        pending.shift();
      } else {
        chunk.copy(body, offset, 0, needed);
        pending[0] = chunk.subarray(needed);
        offset = length;
      }
    }
    pendingLength -= length;
    return body;
  }

  /**
   * CreateMultipartUpload, written down before it is sent (bucket, key, start time, owner) and
   * again before each retry: an answer lost on the way (a connection cut or a restart as S3
   * answers) leaves an upload whose id never arrives, which only the record's time window finds.
   */
  function createUpload(): Promise<string> {
    uploadId ??= (async () => {
      const window: CreateWindow = { startedMs: Date.now(), untilMs: Date.now(), attempts: 0 };
      createWindow = window;
      recordUpload('', windowDetails(window));
      const record = await (recorded as Promise<RecordedUpload>);
      return withRetry(async () => {
        window.attempts += 1;
        window.untilMs = Date.now();
        if (window.attempts > 1) await record.update('', windowDetails(window));
        const response = await client.send(
          new CreateMultipartUploadCommand({ Bucket, Key, ...target.object, ...(settings.partChecksums ? { ChecksumAlgorithm: 'SHA256' } : {}) }),
          { abortSignal: requests.signal },
        );
        if (!response.UploadId) throw pluginFailure(COMPONENT, 'ERR_IO', OPERATION, location.display, 'CreateMultipartUpload returned no UploadId');
        createdId = response.UploadId;
        window.untilMs = Date.now();
        // Recorded before any part is sent: a kill from here on leaves a record naming the upload.
        await record.update(response.UploadId, windowDetails(window));
        return response.UploadId;
      }, retry);
    })();
    return uploadId;
  }

  /**
   * Remove what CreateMultipartUpload made and the write does not keep: its upload unless
   * completed, and the uploads of lost answers, found by the record's time window. Whether none
   * is left; the caller keeps the record otherwise, for the next write's sweep. Never throws.
   */
  async function removeCreatedUploads(): Promise<boolean> {
    const others = claimedByOthers(await journal.list(COMPONENT, scope), createdId);
    const retry = cleanupRetry(settings);
    const { gone } = await removeWriterUploads({
      client,
      target,
      uploadId: createdId,
      window: createWindow,
      claimed: others,
      retry,
      abort: (id) => abortUpload(client, Bucket, Key, id, retry),
    });
    return gone;
  }

  async function uploadPart(partNumber: number, body: Buffer): Promise<void> {
    const id = await createUpload();
    const digest = settings.partChecksums ? bodyDigest(body) : undefined;
    const checksum = digest?.base64;
    const earlier = unfinished?.parts.get(partNumber);
    if (earlier !== undefined && partMatches(earlier, body, checksum)) {
      // Same bytes as the part the interrupted run sent: the archive is reproducible.
      completed.set(partNumber, { PartNumber: partNumber, ETag: earlier.etag, ...(checksum === undefined ? {} : { ChecksumSHA256: checksum }) });
      resumed.partsSkipped += 1;
      resumed.bytesSkipped += body.length;
      return;
    }
    const response = await withRetry(
      () =>
        client.send(
          withPayloadHash(
            new UploadPartCommand({
              Bucket,
              Key,
              UploadId: id,
              PartNumber: partNumber,
              Body: body,
              ContentLength: body.length,
              ...(checksum === undefined ? {} : { ChecksumAlgorithm: 'SHA256', ChecksumSHA256: checksum }),
            }),
            digest?.hex,
          ),
          { abortSignal: requests.signal },
        ),
      retry,
    );
    completed.set(partNumber, { PartNumber: partNumber, ETag: response.ETag, ...(checksum === undefined ? {} : { ChecksumSHA256: checksum }) });
  }

  function fail(error: unknown): Error {
    failure ??= s3Failure(error, OPERATION, location.display, signal);
    return failure;
  }

  function startPart(body: Buffer): void {
    const partNumber = nextPart++;
    if (partNumber > MAX_PARTS) throw pluginFailure(COMPONENT, 'ERR_IO', OPERATION, location.display, `the object needs more than S3's ${MAX_PARTS} parts`);
    const running: Promise<void> = uploadPart(partNumber, body).then(
      () => {
        inFlight.delete(running);
        // Sent and acknowledged: nothing reads these bytes any more (a failed part ends the write).
        recycle(body);
      },
      (error: unknown) => {
        inFlight.delete(running);
        // Destroying the stream makes the pipeline feeding it reject now, not at the next write.
        if (writer.state === 'open') stream.destroy(fail(error));
        else fail(error);
      },
    );
    inFlight.add(running);
  }

  async function waitForSlot(): Promise<void> {
    while (inFlight.size >= settings.partsInFlight && failure === undefined) await Promise.race(inFlight);
    if (failure !== undefined) throw failure;
  }

  /** Cut and start every part that is full, waiting for a free slot before each. */
  async function startFullParts(): Promise<void> {
    while (pendingLength >= partSizeFor(nextPart, settings.partSize, sizeHint)) {
      await waitForSlot();
      startPart(take(partSizeFor(nextPart, settings.partSize, sizeHint)));
    }
  }

  async function finishParts(): Promise<void> {
    if (uploadId === undefined && nextPart === 1) {
      // Smaller than one part: kept for a single PutObject at commit.
      smallBody = take(pendingLength);
      return;
    }
    if (pendingLength > 0) {
      await waitForSlot();
      startPart(take(pendingLength));
    }
    while (inFlight.size > 0) await Promise.race(inFlight);
    if (failure !== undefined) throw failure;
  }

  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (failure !== undefined) return callback(failure);
      pending.push(chunk);
      pendingLength += chunk.length;
      startFullParts().then(() => callback(), (error: unknown) => callback(fail(error)));
    },
    final(callback) {
      finishParts().then(() => callback(), (error: unknown) => callback(fail(error)));
    },
    destroy(error, callback) {
      requests.abort(error ?? new Error('the writer stream was destroyed'));
      pending = [];
      pendingLength = 0;
      callback(error);
    },
  });

  /** Cancel what is in flight, then remove the upload (unless it is kept for a resume). Never throws. */
  async function cleanUp(): Promise<void> {
    requests.abort(new Error('the write was aborted'));
    await Promise.allSettled([...inFlight]);
    // Kept for a resume, the upload keeps its record too: the next write then knows it is one.
    if (resume || uploadId === undefined) return;
    const id = await uploadId.catch(() => undefined);
    // An upload S3 could not be told to abort keeps its record: the next write aborts it.
    const gone = isUncertain(createWindow, id) ? await removeCreatedUploads() : id === undefined || (await abortUpload(client, Bucket, Key, id, cleanupRetry(settings)));
    if (gone) await forgetRecordedUpload();
  }

  const writer = twoPhaseWriter({
    stream,
    component: COMPONENT,
    operation: OPERATION,
    display: location.display,
    signal,
    // After this request the object is visible.
    async finish() {
      const commitRetry = { ...retry, signal };
      if (smallBody !== undefined) {
        const body = smallBody;
        const digest = settings.partChecksums ? bodyDigest(body) : undefined;
        const checksum = digest === undefined ? {} : { ChecksumAlgorithm: 'SHA256' as const, ChecksumSHA256: digest.base64 };
        await withRetry(
          () =>
            client.send(withPayloadHash(new PutObjectCommand({ Bucket, Key, Body: body, ContentLength: body.length, ...target.object, ...checksum }), digest?.hex), {
              abortSignal: signal,
            }),
          commitRetry,
        );
        // A resumed write that turned out small leaves the earlier upload behind: remove it.
        const earlierGone = unfinished === undefined || (await abortUpload(client, Bucket, Key, unfinished.uploadId));
        if (earlierGone) await forgetRecordedUpload();
      } else {
        const id = await (uploadId as Promise<string>);
        const sorted = [...completed.values()].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
        if (sorted.length !== nextPart - 1) throw pluginFailure(COMPONENT, 'ERR_IO', OPERATION, location.display, `${sorted.length} of ${nextPart - 1} parts were uploaded`);
        await withRetry(
          () => client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: id, MultipartUpload: { Parts: sorted } }), { abortSignal: signal }),
          commitRetry,
        );
        // A retried CreateMultipartUpload may have made an upload besides this one; what cannot
        // be removed now stays recorded for the next write to the key.
        if (!isUncertain(createWindow, id) || (await removeCreatedUploads())) await forgetRecordedUpload();
      }
    },
    // With `resume`, a failed or aborted write keeps its multipart upload for the next run.
    discard: cleanUp,
    commitFailure: (error) => s3Failure(error, OPERATION, location.display, signal),
  });
  return { stream, commit: writer.commit, abort: writer.abort, resumed };
}

/**
 * AbortMultipartUpload, then ListParts to see that nothing is left: a part still in flight on the
 * server may be stored after the abort, which S3 documents. Bounded rounds; never throws.
 * `retry`: how the abort is retried on transient failures (default: not at all).
 * @returns whether the upload is gone: S3 accepted the abort, or says it has no such upload.
 * False when S3 could not be asked (refused connections, a timeout): the caller keeps its
 * journal record, so the next write to the key aborts the upload.
 */
export async function abortUpload(client: S3Client, Bucket: string, Key: string, UploadId: string, retry: RetryOptions = { retries: 0 }): Promise<boolean> {
  for (let round = 0; round < ABORT_ROUNDS; round++) {
    try {
      // A retried abort whose first answer was lost gets NoSuchUpload: gone, as wanted.
      await withRetry(() => client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }), { abortSignal: retry.signal }), retry);
    } catch (error) {
      return errorNameOf(error) === 'NoSuchUpload';
    }
    try {
      const listed = await client.send(new ListPartsCommand({ Bucket, Key, UploadId }), { abortSignal: retry.signal });
      if ((listed.Parts ?? []).length === 0) return true;
    } catch {
      // NoSuchUpload: gone, as wanted. Anything else: the abort itself was accepted.
      return true;
    }
  }
  // A part kept arriving after every abort: what is left will be aborted by the next write.
  return false;
}
