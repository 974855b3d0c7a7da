import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { isBentoportError, type ProgressListener } from '@bentoport/spec';
import { isTransientNetworkError, pluginFailure, reportRetries, throwIfAborted, withRetry, type RecordedUpload, type UploadJournal } from '@bentoport/plugin-kit';
import { contentDigest } from './artifact-layout.js';
import { discardBody, pushScope, type RegistryClient } from './registry-client.js';
import { COMPONENT } from './registry-failures.js';
import { forgetContinuedSession, recordSession } from './stale-sessions.js';
import { STOPPING_GRACE_MS, stoppingGrace } from './stopping-grace.js';
import type { BlobDigest, LocalState, UploadState } from './upload-state.js';

export interface UploadContext {
  client: RegistryClient;
  repository: string;
  chunkSize: number;
  /** Transient failures retried per blob, after the first attempt (the upload state stays for the next run). */
  retries: number;
  /** Delay before the first retry, ms. */
  retryDelayMs: number;
  state: LocalState;
  /** `host[:port]` of the registry, for the journal's records. */
  host: string;
  /** Where sessions in flight are written down, for the next run's sweep should this one be killed. */
  journal: UploadJournal;
  signal?: AbortSignal;
  /**
   * The signal of the requests that open, fill and close a session: `signal`, with a grace (see
   * `stopping-grace.ts`). Set by {@link uploadBlob} and {@link uploadSmallBlob}.
   */
  sessionSignal?: AbortSignal | undefined;
  /**
   * How many bytes of this blob the registry holds, after each accepted chunk. A position, not an
   * increment: a blob sent again from its start reports low positions again, which a counter of
   * increments would add twice.
   */
  onBytes?: (held: number) => void;
  onProgress?: ProgressListener;
}

export interface UploadResult extends BlobDigest {
  /** Body bytes sent over the wire for this blob (less than `size` after a resume). */
  bytesSent: number;
}

/** What one blob's upload remembers from one attempt to the next within a run. */
interface UploadMemory {
  /** The session as the registry last confirmed it; undefined to start a new one. */
  session: UploadState | undefined;
  bytesSent: number;
  /** The journal's record of the session; set once it is recorded. */
  recorded?: RecordedUpload | undefined;
  /**
   * The blob whose closing `PUT` was sent and got no answer: the registry may have stored it
   * anyway (moving a large blob within its storage can outlast `timeoutMs`), which the next
   * attempt checks before sending anything again.
   */
  closing?: BlobDigest | undefined;
}

/** The registry refused to continue the upload session: start the blob again. */
class RestartUpload extends Error {}

/** Times one attempt sends a blob again from its first byte when the registry cannot continue a session. */
const MAX_RESTARTS = 2;

/** The absolute URL of an upload session's `Location` answer to `method target`. */
function resolveLocation(client: RegistryClient, location: string | null, method: string, target: string): string {
  if (!location) throw pluginFailure(COMPONENT, 'ERR_IO', method, target, 'the registry sent no upload Location');
  return new URL(location, client.baseUrl).href;
}

function withDigest(location: string, digest: string): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.href;
}

/** `Range: 0-N` → N + 1 bytes received; `0-0` on an empty upload is ambiguous and read as 0. */
function receivedBytes(range: string | null): number | undefined {
  const match = /^(?:bytes=)?0-(\d+)$/.exec(range?.trim() ?? '');
  if (!match) return undefined;
  const last = Number(match[1]);
  return last === 0 ? 0 : last + 1;
}

function notice(context: UploadContext, message: string): void {
  context.onProgress?.({ type: 'notice', operation: 'push', message: `[registry-oci] ${message}` });
}

/** Throw ERR_ABORTED before a request that would change a session of a stopped operation. */
function throwIfStopped(context: UploadContext): void {
  throwIfAborted(context.signal, COMPONENT, 'upload to', context.repository);
}

async function startUpload(context: UploadContext): Promise<string> {
  throwIfStopped(context);
  const path = `/v2/${context.repository}/blobs/uploads/`;
  const response = await context.client.request('POST', path, { scope: pushScope(context.repository), signal: context.sessionSignal, headers: { 'content-length': '0' } });
  if (response.status !== 202) throw await context.client.failure(response, 'POST', `${context.client.baseUrl}${path}`);
  await discardBody(response);
  return resolveLocation(context.client, response.headers.get('location'), 'POST', `${context.client.baseUrl}${path}`);
}

/**
 * Where the registry says an upload session stands, or undefined when it no longer knows it. Asked
 * once: the blob's own retries (see {@link uploadBlob}) try again. A registry that does not answer
 * fails the attempt instead of starting a new session, which would wait out its own timeout too.
 * @throws {BentoportError} ERR_ABORTED, or ERR_IO (transient) when no answer came.
 */
async function uploadStatus(context: UploadContext, location: string): Promise<UploadState | undefined> {
  try {
    const response = await context.client.request('GET', location, { scope: pushScope(context.repository), signal: context.signal, retries: 0 });
    await discardBody(response);
    if (response.status !== 204) return undefined;
    const offset = receivedBytes(response.headers.get('range'));
    if (offset === undefined) return undefined;
    const next = response.headers.get('location');
    return { location: next ? resolveLocation(context.client, next, 'GET', `${context.repository} upload`) : location, offset };
  } catch (error) {
    if (isBentoportError(error, 'ERR_ABORTED') || isTransientNetworkError(error)) throw error;
    return undefined;
  }
}

/** Drop the journal's record of the session this blob's upload holds, if any. */
async function forgetSession(memory: UploadMemory): Promise<void> {
  const recorded = memory.recorded;
  memory.recorded = undefined;
  await recorded?.remove();
}

/**
 * Cancel a session on the registry, within the stopping grace (a stopped process must end), and
 * forget it here (saved state, journal record), whatever the registry answers.
 */
async function dropSession(context: UploadContext, location: string | undefined, resumeKey: string | undefined, memory: UploadMemory): Promise<void> {
  if (location !== undefined) await cancelSession(context, location);
  if (resumeKey) await context.state.deleteUpload(resumeKey);
  await forgetSession(memory);
}

/** `DELETE` the session; never throws (a session the registry no longer knows is gone anyway). */
async function cancelSession(context: UploadContext, location: string): Promise<void> {
  await context.client
    .request('DELETE', location, { scope: pushScope(context.repository), signal: AbortSignal.timeout(STOPPING_GRACE_MS) })
    .then(discardBody)
    .catch(() => undefined);
}

/**
 * The saved session (this run's, or an earlier run's) when the registry still holds it, else a
 * new one; either way written down in the journal as this run's.
 */
async function openSession(context: UploadContext, resumeKey: string | undefined, memory: UploadMemory): Promise<UploadState> {
  const saved = (resumeKey ? await context.state.getUpload(resumeKey) : undefined) ?? memory.session;
  if (saved) {
    const known = await uploadStatus(context, saved.location);
    if (known) {
      if (memory.recorded === undefined) {
        // An earlier run's session, continued: its record is this run's now.
        if (resumeKey) await forgetContinuedSession(context, context.repository, resumeKey);
        memory.recorded = await recordSession(context, context.repository, known.location, resumeKey);
      } else {
        await memory.recorded.update(known.location);
      }
      return known;
    }
    notice(context, `the registry no longer holds the interrupted upload; sending the ${context.repository} blob again from its start`);
    await forgetSession(memory);
  }
  const location = await startUpload(context);
  // Recorded before any byte is sent: a kill from here on leaves a record to sweep.
  memory.recorded = await recordSession(context, context.repository, location, resumeKey);
  return { location, offset: 0 };
}

/** Buffers of `size` bytes (the last one shorter) from a byte stream. */
async function* chunksOf(stream: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of stream) {
    let buffer = piece as Buffer;
    while (buffer.length > 0) {
      const take = Math.min(size - pendingBytes, buffer.length);
      pending.push(buffer.subarray(0, take));
      pendingBytes += take;
      buffer = buffer.subarray(take);
      if (pendingBytes === size) {
        yield Buffer.concat(pending, size);
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

/** PATCH one chunk at `start`; returns the session's next location. */
async function sendChunk(context: UploadContext, location: string, body: Buffer, start: number): Promise<string> {
  throwIfStopped(context);
  const response = await context.client.request('PATCH', location, {
    scope: pushScope(context.repository),
    signal: context.sessionSignal,
    body,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(body.length), 'content-range': `${start}-${start + body.length - 1}` },
  });
  if (response.status === 404 || response.status === 416) {
    await discardBody(response);
    throw new RestartUpload(`PATCH answered ${response.status}`);
  }
  if (response.status !== 202) throw await context.client.failure(response, 'PATCH', `${context.repository} upload`);
  await discardBody(response);
  return resolveLocation(context.client, response.headers.get('location'), 'PATCH', `${context.repository} upload`);
}

/**
 * Read and hash the whole source, PATCHing the bytes past `session.offset` (those before it the
 * registry has already) and saving the session after every accepted chunk.
 */
async function sendChunks(context: UploadContext, source: Readable, session: UploadState, resumeKey: string | undefined, memory: UploadMemory): Promise<BlobDigest> {
  const hash = createHash('sha256');
  const resumedAt = session.offset;
  let position = 0;
  for await (const chunk of chunksOf(source, context.chunkSize)) {
    hash.update(chunk);
    const end = position + chunk.length;
    if (end > session.offset) {
      const body = chunk.subarray(Math.max(0, session.offset - position));
      if (resumedAt > 0 && session.offset === resumedAt) notice(context, `resuming the upload of a ${context.repository} blob at byte ${resumedAt}`);
      session.location = await sendChunk(context, session.location, body, session.offset);
      session.offset += body.length;
      memory.bytesSent += body.length;
      // Saved before anything else runs: the registry checks a session URL's state against its
      // offset, so a kill must find the URL of the last accepted chunk, not the one before.
      if (resumeKey) await context.state.setUpload(resumeKey, { location: session.location, offset: session.offset });
      await memory.recorded?.update(session.location);
      context.onBytes?.(session.offset);
    }
    position = end;
  }
  if (position < session.offset) throw new RestartUpload('the source is shorter than what the registry holds');
  return { digest: `sha256:${hash.digest('hex')}`, size: position };
}

/** Close the session with `PUT ?digest=`: the registry checks the digest and the blob exists. */
async function commitBlob(context: UploadContext, location: string, digest: string): Promise<void> {
  throwIfStopped(context);
  const response = await context.client.request('PUT', withDigest(location, digest), {
    scope: pushScope(context.repository),
    signal: context.sessionSignal,
    headers: { 'content-length': '0', 'content-type': 'application/octet-stream' },
  });
  if (response.status === 404 || response.status === 416) throw new RestartUpload('the registry lost the session');
  if (response.status === 400) throw new RestartUpload('the registry holds other bytes than were hashed');
  if (response.status !== 201) throw await context.client.failure(response, 'PUT', `${context.repository} blob ${digest}`);
  await discardBody(response);
}

/**
 * Whether the registry holds the blob: one `HEAD`, not retried (the blob's own retries are).
 * @throws {BentoportError} ERR_IO (transient) when no answer came, ERR_ABORTED.
 */
async function blobHeld(context: UploadContext, digest: string): Promise<boolean> {
  const response = await context.client.request('HEAD', `/v2/${context.repository}/blobs/${digest}`, { scope: pushScope(context.repository), signal: context.signal, retries: 0 });
  await discardBody(response);
  return response.status === 200;
}

/** The blob an unanswered closing `PUT` asked for, when the registry stored it after all; its session is done. */
async function closedMeanwhile(context: UploadContext, resumeKey: string | undefined, memory: UploadMemory): Promise<UploadResult | undefined> {
  const closing = memory.closing;
  if (closing === undefined || !(await blobHeld(context, closing.digest))) return undefined;
  if (resumeKey) await context.state.deleteUpload(resumeKey);
  await forgetSession(memory);
  return { ...closing, bytesSent: memory.bytesSent };
}

/** One pass over the source: resume or open a session, send what the registry lacks, commit. */
async function uploadOnce(context: UploadContext, open: () => Readable, resumeKey: string | undefined, memory: UploadMemory): Promise<UploadResult> {
  const closed = await closedMeanwhile(context, resumeKey, memory);
  if (closed !== undefined) return closed;
  memory.closing = undefined;
  const session = await openSession(context, resumeKey, memory);
  memory.session = session;
  const source = open();
  try {
    const blob = await sendChunks(context, source, session, resumeKey, memory);
    memory.closing = blob;
    await commitBlob(context, session.location, blob.digest);
    memory.closing = undefined;
    if (resumeKey) await context.state.deleteUpload(resumeKey);
    await forgetSession(memory);
    return { ...blob, bytesSent: memory.bytesSent };
  } catch (error) {
    source.destroy();
    // A session the registry cannot continue is started afresh (a stopped upload's goes in uploadBlob).
    if (error instanceof RestartUpload && !context.signal?.aborted) {
      memory.closing = undefined;
      await dropSession(context, session.location, resumeKey, memory);
      memory.session = undefined;
    }
    throw error;
  }
}

/** {@link uploadOnce}, sent again from the first byte (at most {@link MAX_RESTARTS} times) when the registry cannot continue. */
async function uploadWithRestarts(context: UploadContext, open: () => Readable, resumeKey: string | undefined, memory: UploadMemory): Promise<UploadResult> {
  for (let restarts = 0; ; restarts++) {
    try {
      return await uploadOnce(context, open, resumeKey, memory);
    } catch (error) {
      if (!(error instanceof RestartUpload) || context.signal?.aborted) throw error;
      if (restarts >= MAX_RESTARTS) {
        throw pluginFailure(COMPONENT, 'ERR_IO', 'upload to', context.repository, `the registry could not continue the upload ${restarts + 1} times (${error.message})`);
      }
      notice(context, `the registry cannot continue this upload (${error.message}); sending the ${context.repository} blob again from its start`);
    }
  }
}

/**
 * Upload one blob whose digest is not known in advance: POST a session, PATCH it chunk by chunk
 * while hashing, then `PUT ?digest=` with the digest computed on the way, so no temp file is
 * written. After every accepted chunk the session is saved under `resumeKey`; an interrupted upload
 * (this run after a transient failure, retried with backoff up to `retries` times, or the next
 * run) asks the registry how far it got and continues from there (re-reading and hashing the bytes
 * it already has, sending none of them). A registry that cannot continue (CNCF distribution after
 * a PATCH cut mid-body answers 404 BLOB_UPLOAD_INVALID) gets the blob again from its first byte.
 * @throws {BentoportError} ERR_IO once the retries are spent, ERR_AUTH, ERR_ABORTED.
 */
export async function uploadBlob(context: UploadContext, open: () => Readable, resumeKey: string | undefined): Promise<UploadResult> {
  const memory: UploadMemory = { session: undefined, bytesSent: 0 };
  const grace = stoppingGrace(context.signal);
  const graced: UploadContext = { ...context, sessionSignal: grace.signal };
  const onRetry = reportRetries({ onProgress: context.onProgress, operation: 'push', target: `upload of a ${context.repository} blob`, retries: context.retries });
  try {
    return await withRetry(() => uploadWithRestarts(graced, open, resumeKey, memory), {
      retries: context.retries,
      retryDelayMs: context.retryDelayMs,
      isRetryable: isTransientNetworkError,
      ...(onRetry ? { onRetry } : {}),
      ...(context.signal ? { signal: context.signal } : {}),
    });
  } catch (error) {
    // Stopped on purpose by a process that lives to clean up: nothing is kept for a resume
    // (that is for runs that could not clean up: SIGKILL, a crash), whether the stop came in a
    // request or in the backoff between two attempts.
    const ours = memory.session !== undefined || memory.recorded !== undefined;
    if (context.signal?.aborted && ours) await dropSession(graced, memory.session?.location, resumeKey, memory);
    throw error;
  } finally {
    grace.dispose();
  }
}

/** Upload a small blob whose bytes are in memory (a config): POST, then one `PUT ?digest=` with the body. */
export async function uploadSmallBlob(context: UploadContext, body: Buffer): Promise<BlobDigest> {
  const grace = stoppingGrace(context.signal);
  try {
    return await sendSmallBlob({ ...context, sessionSignal: grace.signal }, body);
  } finally {
    grace.dispose();
  }
}

async function sendSmallBlob(context: UploadContext, body: Buffer): Promise<BlobDigest> {
  const digest = contentDigest(body);
  const location = await startUpload(context);
  const recorded = await recordSession(context, context.repository, location, undefined);
  try {
    throwIfStopped(context);
    const response = await context.client.request('PUT', withDigest(location, digest), {
      scope: pushScope(context.repository),
      signal: context.sessionSignal,
      body,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(body.length) },
    });
    if (response.status !== 201) throw await context.client.failure(response, 'PUT', `${context.repository} blob ${digest}`);
    await discardBody(response);
    return { digest, size: body.length };
  } catch (error) {
    // Nothing to continue for a blob sent in one request: its session goes.
    await cancelSession(context, location);
    throw error;
  } finally {
    await recorded.remove();
  }
}
