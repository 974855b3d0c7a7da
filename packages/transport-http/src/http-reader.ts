import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { abortedFailure, checkReadRange, discardBody, pluginFailure, reportRetries, retryBudget, throwIfAborted } from '@bentoport/plugin-kit';
import type { ProgressListener, TransportReadOptions } from '@bentoport/spec';
import { headerValue, type HttpClient, type HttpResponse } from './http-client.js';
import { COMPONENT, statusFailure } from './http-status.js';
import type { RequestTarget } from './request-target.js';

/** What identifies one version of a resource: a strong ETag, else Last-Modified. */
export interface Validator {
  etag?: string;
  lastModified?: string;
}

export interface ReaderSettings {
  highWaterMark: number;
  retries: number;
  retryDelayMs: number;
}

/** The validator of a response; a weak ETag (`W/"…"`) cannot guard a range, so it is left out. */
export function validatorOf(headers: IncomingHttpHeaders): Validator | undefined {
  const etag = headerValue(headers, 'etag');
  const lastModified = headerValue(headers, 'last-modified');
  const strong = etag !== undefined && !etag.startsWith('W/') ? etag : undefined;
  if (strong === undefined && lastModified === undefined) return undefined;
  return { ...(strong === undefined ? {} : { etag: strong }), ...(lastModified === undefined ? {} : { lastModified }) };
}

function describeValidator(validator: Validator | undefined): string {
  if (validator === undefined) return 'none';
  return validator.etag !== undefined ? `ETag ${validator.etag}` : `Last-Modified ${validator.lastModified}`;
}

/** Whether two responses are the same version: ETags compared when both have one, else Last-Modified. */
function sameVersion(first: Validator, second: Validator | undefined): boolean {
  if (second === undefined) return false;
  if (first.etag !== undefined && second.etag !== undefined) return first.etag === second.etag;
  if (first.lastModified !== undefined && second.lastModified !== undefined) return first.lastModified === second.lastModified;
  return false;
}

/** `bytes 100-199/1000` → { start: 100, end: 200, total: 1000 }; total undefined for `*`. */
export function parseContentRange(value: string | undefined): { start: number; end: number; total?: number } | undefined {
  const match = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(value ?? '');
  if (match === null) return undefined;
  const total = match[3] === '*' ? undefined : Number(match[3]);
  return { start: Number(match[1]), end: Number(match[2]) + 1, ...(total === undefined ? {} : { total }) };
}

function rangeHeader(start: number, end: number | undefined): string {
  return `bytes=${start}-${end === undefined ? '' : end - 1}`;
}

interface FirstResponse {
  response: HttpResponse;
  /** Bytes of the body to drop: a server that ignored the Range header sends from byte 0. */
  skip: number;
  /** One past the last byte that will be delivered, when known. */
  expectedEnd: number | undefined;
  /** The server serves byte ranges (it answered 206, or says `Accept-Ranges: bytes`). */
  ranges: boolean;
}

async function firstResponse(
  client: HttpClient,
  target: RequestTarget,
  start: number,
  end: number | undefined,
  pinned: Validator | undefined,
  signal: AbortSignal | undefined,
  onProgress: ProgressListener | undefined,
): Promise<FirstResponse | undefined> {
  const ranged = start > 0 || end !== undefined;
  const headers: Record<string, string> = {};
  if (ranged) headers.range = rangeHeader(start, end);
  // A ranged read of a version seen earlier (stat, or the whole read of a zip import) must be that version.
  if (ranged && pinned?.etag !== undefined) headers['if-match'] = pinned.etag;
  else if (ranged && pinned?.lastModified !== undefined) headers['if-unmodified-since'] = pinned.lastModified;
  const response = await client.send(target, 'GET', { method: 'GET', headers, signal, onProgress });
  const { status } = response;
  const acceptsRanges = (headerValue(response.headers, 'accept-ranges') ?? '').toLowerCase().includes('bytes');
  if (status === 206) {
    const range = parseContentRange(headerValue(response.headers, 'content-range'));
    if (range === undefined || range.start !== start) {
      await discardBody(response.body);
      const got = headerValue(response.headers, 'content-range') ?? 'none';
      throw pluginFailure(COMPONENT, 'ERR_IO', 'GET', target.display, `asked for bytes from ${start}, got Content-Range ${got}`);
    }
    return { response, skip: 0, expectedEnd: end ?? range.total ?? range.end, ranges: true };
  }
  if (status === 200) {
    const length = Number(headerValue(response.headers, 'content-length'));
    const total = Number.isSafeInteger(length) ? length : undefined;
    return { response, skip: start, expectedEnd: end ?? total, ranges: acceptsRanges };
  }
  await discardBody(response.body);
  // Nothing at or after `start` (start == size, or beyond): an empty read, as a file read past its end.
  if (status === 416) return undefined;
  if (status === 412) {
    const reason = `412 Precondition Failed: the object changed since it was first read (${describeValidator(pinned)}); start again`;
    throw pluginFailure(COMPONENT, 'ERR_CORRUPT_ARCHIVE', 'GET', target.display, reason);
  }
  throw statusFailure(status, 'GET', target.display);
}

/**
 * A resumable download of `[start, end)`. When the connection drops, the rest is asked for with
 * `Range: bytes=<next>-` and `If-Range: <validator>`, after a backoff, up to `retries` times in a
 * row (the count starts again once bytes flow). A server answering 200 to that (the object
 * changed) or a different validator ends the stream with ERR_CORRUPT_ARCHIVE: bytes of two
 * versions are never joined. Without a validator or range support there is no resume.
 */
export async function openHttpReader(
  client: HttpClient,
  target: RequestTarget,
  options: TransportReadOptions,
  settings: ReaderSettings,
  pinned: Validator | undefined,
  onValidator: (validator: Validator | undefined) => void,
): Promise<Readable> {
  const { signal, onProgress } = options;
  const range = checkReadRange(COMPONENT, 'GET', target.display, options);
  const start = range.start;
  const end = range.end === Infinity ? undefined : range.end;
  throwIfAborted(signal, COMPONENT, 'GET', target.display);
  if (end !== undefined && end === start) return Readable.from([]);
  const first = await firstResponse(client, target, start, end, pinned, signal, onProgress);
  if (first === undefined) return Readable.from([]);
  const validator = validatorOf(first.response.headers);
  onValidator(validator);
  const expectedEnd = first.expectedEnd;
  const canResume = first.ranges && validator !== undefined;

  let body: HttpResponse['body'] | undefined;
  let position = start;
  let skip = first.skip;
  // Any drop of a resumable download is worth a resume: the validator keeps the bytes one version.
  const onRetry = reportRetries({ onProgress, operation: 'import', target: `GET ${target.display} (resuming the download)`, retries: settings.retries });
  const budget = retryBudget({ retries: settings.retries, retryDelayMs: settings.retryDelayMs, signal, isRetryable: () => true, ...(onRetry ? { onRetry } : {}) });
  let progressSinceDrop = false;

  const stream = new Readable({
    highWaterMark: settings.highWaterMark,
    read() {
      body?.resume();
    },
    destroy(error, callback) {
      signal?.removeEventListener('abort', onAbort);
      const current = body;
      body = undefined;
      current?.destroy();
      callback(error);
    },
  });

  function onAbort(): void {
    stream.destroy(abortedFailure(COMPONENT, 'GET', target.display, signal));
  }
  signal?.addEventListener('abort', onAbort, { once: true });

  function attach(next: HttpResponse['body']): void {
    body = next;
    next.on('data', (chunk: Buffer) => {
      if (body !== next || stream.destroyed) return;
      let data = chunk;
      if (skip > 0) {
        const dropped = Math.min(skip, data.length);
        skip -= dropped;
        data = data.subarray(dropped);
        if (data.length === 0) return;
      }
      let done = false;
      if (end !== undefined && position + data.length >= end) {
        data = data.subarray(0, end - position);
        done = true;
      }
      position += data.length;
      if (data.length > 0) progressSinceDrop = true;
      const more = stream.push(data);
      if (done) {
        body = undefined;
        next.destroy();
        stream.push(null);
      } else if (!more) {
        next.pause();
      }
    });
    next.on('end', () => {
      if (body !== next || stream.destroyed) return;
      if (expectedEnd !== undefined && position < expectedEnd) {
        onDrop(pluginFailure(COMPONENT, 'ERR_IO', 'GET', target.display, `the body ended after byte ${position} of ${expectedEnd}`));
        return;
      }
      body = undefined;
      stream.push(null);
    });
    next.on('error', (error: unknown) => {
      if (body !== next || stream.destroyed) return;
      onDrop(error);
    });
  }

  function onDrop(error: unknown): void {
    body = undefined;
    if (signal?.aborted) {
      stream.destroy(abortedFailure(COMPONENT, 'GET', target.display, signal));
      return;
    }
    const failure = client.failure(error, 'GET', target.display);
    if (!canResume) {
      const why = validator === undefined ? 'the server sent neither ETag nor Last-Modified' : 'the server does not serve byte ranges';
      stream.destroy(pluginFailure(COMPONENT, failure.code, 'GET', target.display, `${failure.message.replace(/^.*?: /, '')} (cannot resume: ${why})`, { cause: error }));
      return;
    }
    const progressed = progressSinceDrop;
    progressSinceDrop = false;
    budget.afterFailure(failure, progressed).then(
      () => resume(error),
      () => {
        if (signal?.aborted) stream.destroy(abortedFailure(COMPONENT, 'GET', target.display, signal));
        else stream.destroy(pluginFailure(COMPONENT, 'ERR_IO', 'GET', target.display, `the connection dropped at byte ${position} and ${settings.retries} resumes failed`, { cause: error }));
      },
    );
  }

  /** Ask for the rest with `Range` and `If-Range`, and go on with its body; a changed object ends the stream. */
  async function resume(cause: unknown): Promise<void> {
    try {
      if (stream.destroyed) return;
      const headers: Record<string, string> = {
        range: rangeHeader(position, end),
        'if-range': (validator as Validator).etag ?? (validator as Validator).lastModified ?? '',
      };
      let response: HttpResponse;
      try {
        response = await client.send(target, 'GET', { method: 'GET', headers, signal, retry: false });
      } catch (error) {
        if (signal?.aborted) throw error;
        onDrop(error);
        return;
      }
      if (stream.destroyed) {
        response.body.destroy();
        return;
      }
      const current = validatorOf(response.headers);
      if (response.status === 200 || response.status === 412 || (response.status === 206 && !sameVersion(validator as Validator, current))) {
        response.body.destroy();
        throw pluginFailure(
          COMPONENT,
          'ERR_CORRUPT_ARCHIVE',
          'GET',
          target.display,
          `the object changed on the server during the download (${describeValidator(validator)} became ${describeValidator(current)}) after ${position} bytes; start again`,
          { cause },
        );
      }
      if (response.status !== 206) {
        await discardBody(response.body);
        if (response.status >= 500) {
          onDrop(statusFailure(response.status, 'GET', target.display));
          return;
        }
        throw statusFailure(response.status, 'GET', target.display, `resuming at byte ${position}`);
      }
      const range = parseContentRange(headerValue(response.headers, 'content-range'));
      if (range === undefined || range.start !== position) {
        response.body.destroy();
        const got = headerValue(response.headers, 'content-range') ?? 'none';
        throw pluginFailure(COMPONENT, 'ERR_IO', 'GET', target.display, `resumed at byte ${position} but got Content-Range ${got}`);
      }
      attach(response.body);
      if (stream.readableLength >= stream.readableHighWaterMark) response.body.pause();
    } catch (error) {
      stream.destroy(client.failure(error, 'GET', target.display, signal));
    }
  }

  attach(first.response.body);
  return stream;
}
