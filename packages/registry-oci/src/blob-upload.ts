import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { BentoportError, isBentoportError, type ProgressListener } from '@bentoport/core';
import type { RegistryClient } from './registry-client.js';
import type { BlobDigest, LocalState } from './upload-state.js';

export interface UploadContext {
  client: RegistryClient;
  repository: string;
  chunkSize: number;
  /** Network failures tolerated per blob before giving up (the upload state stays for the next run). */
  retries: number;
  state: LocalState;
  signal?: AbortSignal;
  /** Bytes confirmed by the registry, as they are. */
  onBytes?: (bytes: number) => void;
  onProgress?: ProgressListener;
}

export interface UploadResult extends BlobDigest {
  /** Body bytes sent over the wire for this blob (less than `size` after a resume). */
  bytesSent: number;
}

/** The registry refused to continue the upload session: start the blob again. */
class RestartUpload extends Error {}

function resolveLocation(client: RegistryClient, location: string | null, what: string): string {
  if (!location) throw new BentoportError('ERR_IO', `[registry-oci] ${what}: the registry sent no upload Location`);
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

async function startUpload(context: UploadContext, scope: string): Promise<string> {
  const path = `/v2/${context.repository}/blobs/uploads/`;
  const response = await context.client.request('POST', path, { scope, signal: context.signal, headers: { 'content-length': '0' } });
  if (response.status !== 202) throw await context.client.failure(response, 'POST', `${context.client.baseUrl}${path}`);
  await response.body?.cancel().catch(() => undefined);
  return resolveLocation(context.client, response.headers.get('location'), `POST ${path}`);
}

/** Where the registry says an upload session stands, or undefined when it no longer knows it. */
async function uploadStatus(context: UploadContext, location: string, scope: string): Promise<{ location: string; offset: number } | undefined> {
  try {
    const response = await context.client.request('GET', location, { scope, signal: context.signal });
    await response.body?.cancel().catch(() => undefined);
    if (response.status !== 204) return undefined;
    const offset = receivedBytes(response.headers.get('range'));
    if (offset === undefined) return undefined;
    return { location: response.headers.get('location') ? resolveLocation(context.client, response.headers.get('location'), 'GET') : location, offset };
  } catch (error) {
    if (isBentoportError(error, 'ERR_ABORTED')) throw error;
    return undefined;
  }
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

/**
 * Upload one blob whose digest is not known in advance: POST a session, PATCH it chunk by chunk
 * while hashing, then `PUT ?digest=` with the digest computed on the way, so no temp file is
 * written. After every accepted chunk the session is saved under `resumeKey`; an interrupted upload
 * (this run after a network failure, or the next run) asks the registry how far it got and
 * continues from there (re-reading and hashing the bytes it already has, sending none of them). A
 * registry that cannot continue (CNCF distribution after a PATCH cut mid-body answers 404
 * BLOB_UPLOAD_INVALID) gets the blob again from its first byte.
 */
export async function uploadBlob(context: UploadContext, open: () => Readable, resumeKey: string | undefined): Promise<UploadResult> {
  const scope = `repository:${context.repository}:pull,push`;
  let failures = 0;
  let bytesSent = 0;
  let saved = resumeKey ? await context.state.getUpload(resumeKey) : undefined;
  for (let round = 0; round < context.retries + 3; round++) {
    let location: string;
    let offset = 0;
    const known = saved ? await uploadStatus(context, saved.location, scope) : undefined;
    if (saved && !known) {
      context.onProgress?.({
        type: 'notice',
        operation: 'push',
        message: `[registry-oci] the registry no longer holds the interrupted upload; sending the ${context.repository} blob again from its start`,
      });
    }
    saved = undefined;
    if (known) {
      location = known.location;
      offset = known.offset;
    } else {
      location = await startUpload(context, scope);
    }
    const hash = createHash('sha256');
    let total = 0;
    const stream = open();
    try {
      const resumedAt = offset;
      for await (const chunk of chunksOf(stream, context.chunkSize)) {
        hash.update(chunk);
        let body = chunk;
        if (total + chunk.length <= offset) {
          total += chunk.length; // the registry has these bytes already
          continue;
        }
        if (total < offset) {
          body = chunk.subarray(offset - total);
          total = offset;
        }
        if (resumedAt > 0 && total === resumedAt) {
          context.onProgress?.({ type: 'notice', operation: 'push', message: `[registry-oci] resuming the upload of a ${context.repository} blob at byte ${resumedAt}` });
        }
        const sent = await sendChunk(context, scope, location, body, total);
        location = sent.location;
        bytesSent += sent.bytesSent;
        total += body.length;
        context.onBytes?.(body.length);
        if (resumeKey) await context.state.setUpload(resumeKey, { location, offset: total });
      }
      if (total < offset) throw new RestartUpload('the source is shorter than what the registry holds');
      const digest = `sha256:${hash.digest('hex')}`;
      const response = await context.client.request('PUT', withDigest(location, digest), {
        scope,
        signal: context.signal,
        headers: { 'content-length': '0', 'content-type': 'application/octet-stream' },
      });
      if (response.status === 404 || response.status === 416) throw new RestartUpload('the registry lost the session');
      if (response.status === 400) throw new RestartUpload('the registry holds other bytes than were hashed');
      if (response.status !== 201) throw await context.client.failure(response, 'PUT', `${context.repository} blob ${digest}`);
      await response.body?.cancel().catch(() => undefined);
      if (resumeKey) await context.state.deleteUpload(resumeKey);
      return { digest, size: total, bytesSent };
    } catch (error) {
      stream.destroy();
      if (context.signal?.aborted) {
        // An explicit abort leaves no trace: the session is cancelled and forgotten.
        await context.client.request('DELETE', location, { scope }).then((r) => r.body?.cancel()).catch(() => undefined);
        if (resumeKey) await context.state.deleteUpload(resumeKey);
        throw error;
      }
      if (error instanceof RestartUpload) {
        context.onProgress?.({
          type: 'notice',
          operation: 'push',
          message: `[registry-oci] the registry cannot continue this upload (${error.message}); sending the ${context.repository} blob again from its start`,
        });
        await context.client.request('DELETE', location, { scope }).then((r) => r.body?.cancel()).catch(() => undefined);
        if (resumeKey) await context.state.deleteUpload(resumeKey);
        continue;
      }
      if (isBentoportError(error, 'ERR_IO') && failures < context.retries && error.details.status === undefined) {
        failures += 1;
        saved = resumeKey ? await context.state.getUpload(resumeKey) : { location, offset: total };
        saved ??= { location, offset: total };
        continue;
      }
      throw error;
    }
  }
  throw new BentoportError('ERR_IO', `[registry-oci] upload to ${context.repository}: gave up after ${context.retries + 3} attempts`);
}

async function sendChunk(
  context: UploadContext,
  scope: string,
  location: string,
  body: Buffer,
  start: number,
): Promise<{ location: string; bytesSent: number }> {
  const response = await context.client.request('PATCH', location, {
    scope,
    signal: context.signal,
    body,
    headers: {
      'content-type': 'application/octet-stream',
      'content-length': String(body.length),
      'content-range': `${start}-${start + body.length - 1}`,
    },
  });
  if (response.status === 404 || response.status === 416) {
    await response.body?.cancel().catch(() => undefined);
    throw new RestartUpload(`PATCH answered ${response.status}`);
  }
  if (response.status !== 202) throw await context.client.failure(response, 'PATCH', `${context.repository} upload`);
  await response.body?.cancel().catch(() => undefined);
  return { location: resolveLocation(context.client, response.headers.get('location'), 'PATCH'), bytesSent: body.length };
}

/** Upload a small blob whose bytes are in memory (a config): POST, then one `PUT ?digest=` with the body. */
export async function uploadSmallBlob(context: UploadContext, body: Buffer): Promise<BlobDigest> {
  const scope = `repository:${context.repository}:pull,push`;
  const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  const location = await startUpload(context, scope);
  const response = await context.client.request('PUT', withDigest(location, digest), {
    scope,
    signal: context.signal,
    body,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(body.length) },
  });
  if (response.status !== 201) throw await context.client.failure(response, 'PUT', `${context.repository} blob ${digest}`);
  await response.body?.cancel().catch(() => undefined);
  return { digest, size: body.length };
}
