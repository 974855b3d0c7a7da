import { Readable, Writable } from 'node:stream';
import { discardBody, pluginFailure, temporarySiblingName, throwIfAborted, twoPhaseWriter, type RecordedUpload, type UploadJournal } from '@bentoport/plugin-kit';
import type { BentoportError, TransportWriteOptions, TransportWriter } from '@bentoport/spec';
import type { HttpClient, HttpResponse } from './http-client.js';
import { COMPONENT, statusFailure } from './http-status.js';
import { baseName, displayUrl, parentUrl, siblingUrl, type RequestTarget } from './request-target.js';
import { deleteTemporary, recordTemporary, removeStaleTemporaries } from './stale-temporaries.js';
import { ensureCollection, moveResource } from './webdav.js';

/** How long an abort waits for the answer to a PUT whose body was sent, before deleting the temp resource. */
const ABORT_WAIT_MILLISECONDS = 30_000;

export interface WriterSettings {
  highWaterMark: number;
  /** Decide per write whether the server speaks WebDAV (cached per origin by the caller). */
  useWebdav(target: RequestTarget, signal: AbortSignal | undefined): Promise<boolean>;
  /** Called after a commit made new bytes visible (drops pinned validators). */
  onCommitted(): void;
  /** Where WebDAV writes record their temporary resources, for the sweep after a SIGKILL. */
  journal: UploadJournal;
}

/** The temporary sibling of the target, for WebDAV uploads: same collection, so MOVE is a rename. */
export function temporaryUrlFor(url: URL): URL {
  return siblingUrl(url, temporarySiblingName(baseName(url)));
}

function checkSizeHint(sizeHint: number | undefined, display: string): void {
  if (sizeHint !== undefined && (!Number.isSafeInteger(sizeHint) || sizeHint < 0)) {
    throw new TypeError(`[transport-http] PUT ${display}: sizeHint must be a non-negative integer, got ${String(sizeHint)}`);
  }
}

/** A PUT refused because the body had no length: say what to do instead. */
function putStatusFailure(status: number, display: string, sizeKnown: boolean): BentoportError {
  if (!sizeKnown && (status === 411 || status === 501)) {
    return statusFailure(
      status,
      'PUT',
      display,
      'the server needs the size in advance (Content-Length) and a streamed export has none; presigned single PUTs need a known size: export to a WebDAV server or a local file, or pass sizeHint',
    );
  }
  return statusFailure(status, 'PUT', display);
}

/**
 * Open a two-phase upload.
 *
 * - WebDAV (detected by OPTIONS, or forced): missing parent collections are created with MKCOL,
 *   temporary resources that killed earlier writes to the target left are deleted (and reported
 *   to `onProgress`; they are found in a local journal each write records its temporary name in
 *   before its PUT), the bytes go to `.<name>.bentoport-<owner>-<hex>.tmp` beside the target, and
 *   `commit` MOVEs it over the target with `Overwrite: T`; `abort` cancels the PUT and DELETEs the
 *   temporary resource.
 * - Plain PUT (a presigned URL, a server without MOVE): the PUT goes to the target itself and
 *   the last chunk (or, for an empty body, the whole request) is held back until `commit`, so the
 *   server never sees a complete body before then; `abort` cuts the connection, and a server
 *   stores nothing from an incomplete body.
 *
 * The body is sent with `Content-Length` when `sizeHint` is given, else chunked.
 */
export async function openHttpWriter(
  client: HttpClient,
  target: RequestTarget,
  options: TransportWriteOptions,
  settings: WriterSettings,
): Promise<TransportWriter> {
  const { signal, sizeHint } = options;
  const display = target.display;
  checkSizeHint(sizeHint, display);
  throwIfAborted(signal, COMPONENT, 'PUT', display);
  if (target.url.pathname.endsWith('/')) throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'PUT', display, 'the URL names a collection, not a file');
  const webdav = await settings.useWebdav(target, signal);
  let putUrl = target.url;
  if (webdav) {
    await ensureCollection(client, target, parentUrl(target.url), signal);
    await removeStaleTemporaries(client, target, settings.journal, signal, options.onProgress);
    putUrl = temporaryUrlFor(target.url);
  }
  // Written down before the PUT can create anything, so a SIGKILL at any later point is swept.
  const recorded = webdav ? await recordTemporary(settings.journal, target, putUrl) : undefined;
  if (signal?.aborted) await recorded?.remove();
  throwIfAborted(signal, COMPONENT, 'PUT', display);
  return httpWriter({ client, target, putUrl, webdav, sizeHint, signal, settings, recorded });
}

interface WriterParts {
  client: HttpClient;
  target: RequestTarget;
  putUrl: URL;
  webdav: boolean;
  sizeHint: number | undefined;
  signal: AbortSignal | undefined;
  settings: WriterSettings;
  /** The journal record of the temporary resource (WebDAV only), removed once it is gone. */
  recorded: RecordedUpload | undefined;
}

function httpWriter(parts: WriterParts): TransportWriter {
  const { client, target, putUrl, webdav, sizeHint, signal, settings, recorded } = parts;
  const display = target.display;
  const cancel = new AbortController();
  let failure: Error | undefined;
  let waiting: ((error?: Error | null) => void) | undefined;
  let held: Buffer | undefined;
  let bodyEnded = false;
  let request: Promise<HttpResponse> | undefined;

  const body = new Readable({
    highWaterMark: settings.highWaterMark,
    read() {
      const callback = waiting;
      waiting = undefined;
      callback?.();
    },
  });
  // A failed body fails the request, which reports it through its promise; the body's own error is noise here.
  body.on('error', () => {});

  function fail(error: Error): void {
    if (failure !== undefined) return;
    failure = error;
    const callback = waiting;
    waiting = undefined;
    callback?.(error);
    stream.destroy(error);
  }

  function startRequest(requestBody: Readable | string): void {
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (sizeHint !== undefined) headers['content-length'] = String(sizeHint);
    request = client.send(target, 'PUT', {
      method: 'PUT',
      url: putUrl,
      headers,
      body: requestBody,
      signal: cancel.signal,
      followRedirects: false,
      retry: false,
    });
    request.then(
      async (response) => {
        // An answer before the body was complete is a refusal (401, 403, 411, 413, …).
        if (!bodyEnded && writer.state === 'open' && (response.status < 200 || response.status >= 300)) {
          await discardBody(response.body);
          fail(putStatusFailure(response.status, display, sizeHint !== undefined));
        }
      },
      (error: unknown) => {
        if (writer.state === 'open') fail(client.failure(error, 'PUT', display, signal));
      },
    );
  }

  function deliver(chunk: Buffer, callback: (error?: Error | null) => void): void {
    if (body.push(chunk)) callback();
    else waiting = callback;
  }

  const stream = new Writable({
    highWaterMark: settings.highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      if (failure !== undefined) return callback(failure);
      if (webdav) return deliver(chunk, callback);
      // Plain PUT: hold the newest chunk back so the body stays incomplete until commit.
      const previous = held;
      held = chunk;
      if (previous === undefined) callback();
      else deliver(previous, callback);
    },
    final(callback) {
      if (failure !== undefined) return callback(failure);
      if (webdav) {
        bodyEnded = true;
        body.push(null);
      }
      callback();
    },
  });

  // An empty plain PUT with a known length would complete at once: send it at commit instead.
  const deferred = !webdav && sizeHint === 0;
  if (!deferred) startRequest(body);

  async function removeTemporary(): Promise<void> {
    if (!webdav) return;
    try {
      const { gone } = await deleteTemporary(client, target, putUrl);
      if (gone) await recorded?.remove();
    } catch {
      // abort never throws; the record stays, so the next write to this URL removes the leftover.
    }
  }

  async function settleRequest(): Promise<void> {
    if (request === undefined) return;
    if (bodyEnded) {
      // The server may be storing the complete body: wait for its answer so DELETE comes after.
      const timer = setTimeout(() => cancel.abort(), ABORT_WAIT_MILLISECONDS);
      try {
        const response = await request;
        await discardBody(response.body);
      } catch {
        // Cancelled or failed: nothing to wait for.
      } finally {
        clearTimeout(timer);
      }
      return;
    }
    cancel.abort();
    body.destroy();
    await request.then((response) => discardBody(response.body), () => {});
  }

  /**
   * Refuse further writes, then end the PUT (waiting for the server's answer to a complete body,
   * so DELETE comes after it) and delete the temporary resource. Never throws.
   */
  async function discard(reason?: unknown): Promise<void> {
    failure ??= reason instanceof Error ? reason : pluginFailure(COMPONENT, 'ERR_ABORTED', 'PUT', display, 'the write was aborted', { cause: reason });
    const callback = waiting;
    waiting = undefined;
    callback?.(failure);
    await settleRequest();
    await removeTemporary();
  }

  const writer = twoPhaseWriter({
    stream,
    component: COMPONENT,
    operation: 'PUT',
    display,
    signal,
    async finish() {
      if (failure !== undefined) throw failure;
      if (deferred) {
        bodyEnded = true;
        startRequest('');
      } else if (!webdav) {
        if (held !== undefined) {
          const last = held;
          held = undefined;
          await new Promise<void>((resolve, reject) => deliver(last, (error) => (error ? reject(error) : resolve())));
        }
        bodyEnded = true;
        body.push(null);
      }
      let response: HttpResponse;
      try {
        response = await (request as Promise<HttpResponse>);
      } catch (error) {
        throw client.failure(error, 'PUT', display, signal);
      }
      await discardBody(response.body);
      if (response.status < 200 || response.status >= 300) throw putStatusFailure(response.status, display, sizeHint !== undefined);
      if (webdav) {
        throwIfAborted(signal, COMPONENT, 'COMMIT', display);
        await moveResource(client, target, putUrl, signal);
      }
    },
    discard,
    commitFailure: (error) => client.failure(error, 'COMMIT', displayUrl(target.url, target.credentials?.user), signal),
    committed: async () => {
      settings.onCommitted();
      await recorded?.remove();
    },
  });
  return writer;
}
