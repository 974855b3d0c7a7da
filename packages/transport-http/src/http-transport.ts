import path from 'node:path';
import type { Readable } from 'node:stream';
import {
  abortedFailure,
  bentoportStateDirectory,
  discardBody,
  optionChecks,
  parallelRanges,
  pluginFailure,
  resolveNetworkOptions,
  throwIfAborted,
  uploadJournal,
  type NetworkOptions,
  type OptionChecks,
} from '@bentoport/plugin-kit';
import type { Location, ProgressListener, Transport, TransportListEntry, TransportReadOptions, TransportStat } from '@bentoport/spec';
import { headerValue, HttpClient, type HttpResponse } from './http-client.js';
import { openHttpReader, parseContentRange, validatorOf, type Validator } from './http-reader.js';
import { COMPONENT, statusFailure } from './http-status.js';
import { openHttpWriter } from './http-writer.js';
import { parentUrl, requestTargetOf, type RequestTarget } from './request-target.js';
import { detectWebdav, entriesOf, propfind } from './webdav.js';

/**
 * Options of {@link httpTransport}. The network options are the kit's: `connectTimeoutMs` bounds
 * TCP and TLS, `timeoutMs` the wait for response headers and every silence within a body, on
 * every request; `retries` covers failed idempotent requests and resumes of a dropped download
 * (the count starts again once bytes flow); `env` is where `HTTPS_PROXY`/`HTTP_PROXY`/
 * `ALL_PROXY`/`NO_PROXY` and `NETRC` are read, per request, so a redirect to another host gets
 * its own proxy decision.
 */
export interface HttpTransportOptions extends NetworkOptions {
  /**
   * Headers sent with every request to the URL's own origin (never after a redirect to another
   * one). Per-URL headers come from `header.<Name>` parameters: `?header.Authorization=Bearer%20x`.
   * @default {}
   */
  headers?: Record<string, string>;
  /**
   * Where to look up credentials for a URL without `user:password@` and without an
   * `Authorization` header: `true` reads `$NETRC`, else `~/.netrc`; a string names the file;
   * `false` never reads one.
   * @default true
   */
  netrc?: boolean | string;
  /**
   * Whether writes use WebDAV (MKCOL for missing parents, a temporary name, MOVE on commit) and
   * whether `list` exists. `'auto'` asks the server once per collection with OPTIONS (a `DAV`
   * header, or `MOVE` in `Allow`) and falls back to a plain PUT. `false` also removes `list`.
   * @default 'auto'
   */
  webdav?: 'auto' | boolean;
  /**
   * Redirects followed for GET, HEAD, OPTIONS and PROPFIND. Credentials and custom headers are
   * dropped once a redirect leaves the URL's origin (scheme, host and port).
   * @default 10
   */
  maxRedirects?: number;
  /**
   * Bytes a read stream buffers and a writer stream buffers before `write()` returns false.
   * @default 65536
   */
  highWaterMark?: number;
  /**
   * Bytes per ranged GET when a whole resource is downloaded in parallel ranges (after `stat`
   * saw `Accept-Ranges: bytes`, a size and a strong ETag or Last-Modified to pin every range to).
   * @default 2097152 (2 MiB)
   */
  rangeSize?: number;
  /**
   * Ranged GETs in flight at once for such a download; memory held is about rangesInFlight ×
   * rangeSize. `1` downloads with one GET.
   * @default 4 from a distant server (its `stat` took 10 ms or more: see `NEAR_SERVER_MS`), 1 from a near one
   */
  rangesInFlight?: number;
}

/**
 * Options of earlier releases that are gone, refused rather than ignored: the transport speaks
 * HTTP/1.1 through Node's own `http` and `https` now, not undici.
 */
const REMOVED_OPTIONS: Readonly<Record<string, string>> = {
  dispatcher: 'ca, rejectUnauthorized, connectTimeoutMs, timeoutMs and HTTPS_PROXY/HTTP_PROXY/NO_PROXY in env (undici dispatchers are no longer taken)',
};

function checkHeaders(headers: unknown, check: OptionChecks): Record<string, string> {
  if (headers === undefined) return {};
  if (typeof headers !== 'object' || headers === null) throw new TypeError(`${COMPONENT}: options.headers must be an object`);
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') throw new TypeError(`${COMPONENT}: options.headers.${name} must be a string`);
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value)) throw check.invalid('headers', 'valid HTTP header names and values', name);
  }
  return headers as Record<string, string>;
}

function resolveOptions(options: HttpTransportOptions) {
  const network = resolveNetworkOptions(COMPONENT, options);
  const check = optionChecks(COMPONENT);
  check.renamed(options, REMOVED_OPTIONS);
  const { netrc = true, webdav = 'auto' } = options;
  if (options.ca !== undefined && [options.ca].flat().some((entry) => typeof entry !== 'string' && !Buffer.isBuffer(entry))) {
    throw new TypeError(`${COMPONENT}: options.ca must be PEM strings or Buffers`);
  }
  if (typeof netrc !== 'boolean' && typeof netrc !== 'string') throw new TypeError(`${COMPONENT}: options.netrc must be a boolean or a file path`);
  if (webdav !== 'auto' && typeof webdav !== 'boolean') throw check.invalid('webdav', "'auto', true or false", webdav);
  return {
    network,
    headers: checkHeaders(options.headers, check),
    netrc,
    webdav,
    maxRedirects: check.integer('maxRedirects', options.maxRedirects, 10),
    highWaterMark: check.integer('highWaterMark', options.highWaterMark, 64 * 1024, 1),
    rangeSize: check.integer('rangeSize', options.rangeSize, 2 * 1024 * 1024, 64 * 1024),
    rangesInFlight: options.rangesInFlight === undefined ? undefined : check.integer('rangesInFlight', options.rangesInFlight, DISTANT_RANGES_IN_FLIGHT, 1, 64),
  };
}

function sizeOf(response: HttpResponse): number {
  const range = parseContentRange(headerValue(response.headers, 'content-range'));
  if (range?.total !== undefined) return range.total;
  const length = Number(headerValue(response.headers, 'content-length') ?? '0');
  return Number.isSafeInteger(length) && length >= 0 ? length : 0;
}

function fileStat(response: HttpResponse, size: number): TransportStat {
  const modified = headerValue(response.headers, 'last-modified');
  const mtime = modified === undefined ? undefined : new Date(modified);
  const etag = headerValue(response.headers, 'etag');
  return {
    type: 'file',
    size,
    ...(mtime !== undefined && !Number.isNaN(mtime.getTime()) ? { mtime } : {}),
    ...(etag === undefined ? {} : { etag }),
  };
}

/** Whether a response says its resource serves byte ranges. */
function servesRanges(response: HttpResponse): boolean {
  return (headerValue(response.headers, 'accept-ranges') ?? '').toLowerCase().includes('bytes');
}

/**
 * A server whose `stat` (HEAD: connection, request and answer, two to four round trips) takes less
 * than this is near, and a whole read from it is one GET. Why: one TCP connection carries a
 * window per round trip (Linux grows it to 6 MiB), so under a few milliseconds it already moves
 * more than a disk and a decoder take; parallel ranges there only add requests, reordering and
 * memory (a 256 MiB import from nginx on the same host: 1.17–1.33 s and 110 MiB with one GET,
 * 1.48–1.58 s and 121 MiB with four ranges). From farther away a single connection is capped by
 * window / RTT (60 MB/s at 100 ms), which four connections quadruple.
 */
const NEAR_SERVER_MS = 10;

/** Ranged GETs at once for a whole read from a distant server, unless `rangesInFlight` says. */
const DISTANT_RANGES_IN_FLIGHT = 4;

/** HEAD refused (a presigned URL signed for GET only, a server without HEAD): ask for one byte instead. */
const HEAD_REFUSED = new Set([400, 403, 405, 501]);

/**
 * A transport for `http` and `https` URLs: release assets, artifact servers, presigned URLs and
 * WebDAV servers.
 *
 * - `stat` sends HEAD (a ranged GET of one byte when HEAD is refused); `read` streams a GET,
 *   honours `start`/`end` with `Range`, and resumes a dropped download from the next byte with
 *   `If-Range`, so bytes of two versions are never joined (ERR_CORRUPT_ARCHIVE instead).
 * - `write` PUTs: to a temporary name then MOVE on WebDAV servers, else straight to the URL
 *   with the body completed only at `commit`. On WebDAV it first deletes the temporary names
 *   that killed earlier writes to the same URL left, and says so: each write records its
 *   temporary name under `$BENTOPORT_STATE_DIR` (else `$XDG_STATE_HOME/bentoport`, else
 *   `~/.local/state/bentoport`, read from `env`) until it is moved or deleted.
 * - `list` uses WebDAV PROPFIND (depth 1); `delete` sends DELETE.
 * - Credentials: `user:password@` in the URL or `~/.netrc` become Basic auth; `header.<Name>`
 *   parameters and `options.headers` add headers. None of them follows a redirect to another origin.
 *
 * Errors: `ERR_NOT_FOUND` for 404/410, `ERR_AUTH` for 401/403, `ERR_ABORTED` when the signal
 * fires, `ERR_CORRUPT_ARCHIVE` when the object changes during a read, `ERR_INVALID_TARGET` for a
 * bad URL, `ERR_IO` for anything else; messages read `[transport-http] <METHOD> <URL>: <reason>`
 * with the password, signature query values and `header.*` values replaced by `***`.
 *
 * @example
 * ```ts
 * import { createBentoport } from '@bentoport/core';
 * import { tarFormat } from '@bentoport/format-tar';
 * import { httpTransport } from '@bentoport/transport-http';
 *
 * const bentoport = createBentoport({ formats: [tarFormat()], transports: [httpTransport({ ca: companyCaPem })] });
 * await bentoport.importBento('https://artifacts.example.com/bentos/iris.tar.gz?header.Authorization=Bearer%20TOKEN');
 * await bentoport.exportBento('iris:latest', 'https://user:pass@dav.example.com/bentos/');
 * ```
 */
export function httpTransport(options: HttpTransportOptions = {}): Transport {
  const settings = resolveOptions(options);
  const { network } = settings;
  const client = new HttpClient({
    network,
    maxRedirects: settings.maxRedirects,
    headers: settings.headers,
    netrc: settings.netrc,
  });
  const readerSettings = { highWaterMark: settings.highWaterMark, retries: network.retries, retryDelayMs: network.retryDelayMs };
  /** The version each URL was first seen at; ranged reads are pinned to it (If-Match). */
  const validators = new Map<string, Validator>();
  /**
   * The URLs whose `stat` said they serve byte ranges, with their size and how many ranges a
   * whole read of each fetches at once (see {@link NEAR_SERVER_MS}).
   */
  const rangedReads = new Map<string, { size: number; rangesInFlight: number }>();
  const webdavByCollection = new Map<string, Promise<boolean>>();
  const journal = uploadJournal({ directory: path.join(bentoportStateDirectory(network.env), 'leftovers') });

  function useWebdav(target: RequestTarget, signal: AbortSignal | undefined): Promise<boolean> {
    if (settings.webdav !== 'auto') return Promise.resolve(settings.webdav);
    const key = parentUrl(target.url).href;
    let answer = webdavByCollection.get(key);
    if (answer === undefined) {
      answer = detectWebdav(client, target, signal);
      webdavByCollection.set(key, answer);
      answer.catch(() => webdavByCollection.delete(key));
    }
    return answer;
  }

  function remember(target: RequestTarget, validator: Validator | undefined): void {
    if (validator === undefined) validators.delete(target.url.href);
    else validators.set(target.url.href, validator);
  }

  async function statLocation(location: Location, statOptions: { signal?: AbortSignal; onProgress?: ProgressListener } = {}): Promise<TransportStat> {
    const { signal, onProgress } = statOptions;
    const target = requestTargetOf(location, 'HEAD');
    throwIfAborted(signal, COMPONENT, 'HEAD', target.display);
    rangedReads.delete(target.url.href);
    const started = performance.now();
    const head = await client.send(target, 'HEAD', { method: 'HEAD', signal, onProgress });
    const near = performance.now() - started < NEAR_SERVER_MS;
    await discardBody(head.body);
    // `/dir` → 301 `/dir/` is how servers say "a directory"; so is a URL ending in `/` that answers.
    const addedSlash = head.url.pathname === `${target.url.pathname}/`;
    if (head.url.pathname.endsWith('/') && ((head.status >= 200 && head.status < 300) || (addedSlash && head.status === 403))) {
      return { type: 'directory', size: 0 };
    }
    if (head.status >= 200 && head.status < 300) {
      remember(target, validatorOf(head.headers));
      const size = sizeOf(head);
      if (servesRanges(head)) rangedReads.set(target.url.href, { size, rangesInFlight: settings.rangesInFlight ?? (near ? 1 : DISTANT_RANGES_IN_FLIGHT) });
      return fileStat(head, size);
    }
    if (!HEAD_REFUSED.has(head.status)) throw statusFailure(head.status, 'HEAD', target.display);
    const get = await client.send(target, 'GET', { method: 'GET', headers: { range: 'bytes=0-0' }, signal, onProgress });
    await discardBody(get.body);
    if (get.status === 416) return { type: 'file', size: 0 };
    if (get.status !== 200 && get.status !== 206) throw statusFailure(get.status, 'GET', target.display, `after HEAD answered ${head.status}`);
    remember(target, validatorOf(get.headers));
    return fileStat(get, sizeOf(get));
  }

  async function listLocation(location: Location, listOptions: { signal?: AbortSignal } = {}): Promise<TransportListEntry[]> {
    const { signal } = listOptions;
    const target = requestTargetOf(location, 'PROPFIND');
    throwIfAborted(signal, COMPONENT, 'PROPFIND', target.display);
    const directory = new URL(target.url.href);
    if (!directory.pathname.endsWith('/')) directory.pathname += '/';
    const resources = await propfind(client, target, directory, 1, 'PROPFIND', signal);
    if (resources === undefined) {
      throw pluginFailure(COMPONENT, 'ERR_IO', 'PROPFIND', target.display, 'the server does not support WebDAV PROPFIND, which listing needs');
    }
    return entriesOf(resources, directory, target.display);
  }

  async function deleteLocation(location: Location, deleteOptions: { signal?: AbortSignal } = {}): Promise<void> {
    const { signal } = deleteOptions;
    const target = requestTargetOf(location, 'DELETE');
    throwIfAborted(signal, COMPONENT, 'DELETE', target.display);
    const response = await client.send(target, 'DELETE', { method: 'DELETE', signal, followRedirects: false });
    await discardBody(response.body);
    validators.delete(target.url.href);
    if (response.status < 200 || response.status >= 300) throw statusFailure(response.status, 'DELETE', target.display);
  }

  /**
   * A whole read of a resource `stat` saw serving byte ranges: several ranged GETs at once, each
   * pinned to the version `stat` saw (If-Match: a change is ERR_CORRUPT_ARCHIVE, never a mix of
   * two versions) and each resumable on its own, handed on in order.
   */
  async function readInParallelRanges(
    target: RequestTarget,
    { size, rangesInFlight }: { size: number; rangesInFlight: number },
    pinned: Validator,
    readOptions: TransportReadOptions,
  ): Promise<Readable> {
    const { signal } = readOptions;
    throwIfAborted(signal, COMPONENT, 'GET', target.display);
    async function fetchRange(start: number, end: number, onChunk: (chunk: Buffer) => void, requests: AbortSignal): Promise<void> {
      const reader = await openHttpReader(client, target, { ...readOptions, start, end, signal: requests }, readerSettings, pinned, () => {});
      let received = 0;
      for await (const chunk of reader as AsyncIterable<Buffer>) {
        received += chunk.length;
        onChunk(chunk);
      }
      if (received !== end - start) {
        throw pluginFailure(COMPONENT, 'ERR_IO', 'GET', target.display, `bytes ${start}-${end - 1} ended after ${received} bytes: the resource changed while it was being read; start again`);
      }
    }
    const stream = parallelRanges({
      start: 0,
      end: size,
      rangeSize: settings.rangeSize,
      rangesInFlight,
      fetchRange,
      failure: (error) => client.failure(error, 'GET', target.display, signal),
    });
    const onAbort = () => stream.destroy(abortedFailure(COMPONENT, 'GET', target.display, signal));
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.once('close', () => signal?.removeEventListener('abort', onAbort));
    return stream;
  }

  const transport: Transport = {
    apiVersion: 1,
    name: 'transport-http',
    protocols: ['http', 'https'],
    capabilities: { rangedReads: true, list: settings.webdav !== false, delete: true, atomicCommit: true, resumableWrites: false },
    stat: statLocation,
    read: async (location, readOptions = {}) => {
      const target = requestTargetOf(location, 'GET');
      const ranged = (readOptions.start ?? 0) > 0 || readOptions.end !== undefined;
      const whole = rangedReads.get(target.url.href);
      const pinnedWhole = validators.get(target.url.href);
      if (!ranged && whole !== undefined && pinnedWhole !== undefined && whole.size > settings.rangeSize && whole.rangesInFlight > 1) {
        return readInParallelRanges(target, whole, pinnedWhole, readOptions);
      }
      const pinned = ranged ? validators.get(target.url.href) : undefined;
      return openHttpReader(client, target, readOptions, readerSettings, pinned, (validator) => {
        if (!ranged || !validators.has(target.url.href)) remember(target, validator);
      });
    },
    write: async (location, writeOptions = {}) => {
      const target = requestTargetOf(location, 'PUT');
      return openHttpWriter(client, target, writeOptions, {
        highWaterMark: settings.highWaterMark,
        useWebdav,
        onCommitted: () => validators.delete(target.url.href),
        journal,
      });
    },
    delete: deleteLocation,
  };
  if (settings.webdav !== false) transport.list = listLocation;
  return transport;
}
