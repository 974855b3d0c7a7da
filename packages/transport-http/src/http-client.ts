import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import {
  abortedFailure,
  discardBody,
  httpConnections,
  isTransientHttpStatus,
  netrcCredentials,
  networkFailure,
  pluginFailure,
  reportRetries,
  retryBudget,
  throwIfAborted,
  type HttpConnections,
  type ResolvedNetworkOptions,
  type RetryBudget,
} from '@bentoport/plugin-kit';
import type { BentoportError, ProgressListener } from '@bentoport/spec';
import { COMPONENT } from './http-status.js';
import { displayUrl, type RequestTarget } from './request-target.js';

/** What the client needs from the transport's options, resolved. */
export interface ClientSettings {
  network: ResolvedNetworkOptions;
  maxRedirects: number;
  headers: Record<string, string>;
  /** `false`: never read a netrc file; a string: that file; `true`: `$NETRC` or `~/.netrc`. */
  netrc: boolean | string;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Node's response stream; read it, or let it go with `discardBody`. */
  body: Readable;
  /** The URL that answered, after redirects. */
  url: URL;
  /** Every URL redirected to, in order. */
  redirects: URL[];
}

export interface SendOptions {
  method: string;
  /** @default target.url */
  url?: URL;
  /** Request-specific headers (Range, Destination, …), sent whatever the origin. */
  headers?: Record<string, string>;
  body?: string | Buffer | Readable | null;
  signal?: AbortSignal;
  /** @default true for GET, HEAD, OPTIONS and PROPFIND */
  followRedirects?: boolean;
  /** Retry transient failures with backoff. @default true when there is no stream body */
  retry?: boolean;
  /** Told of each retry before its delay (a `warning` with `retry` details). @default undefined (retries are silent) */
  onProgress?: ProgressListener | undefined;
}

const USER_AGENT = 'bentoport-transport-http';
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const READ_ONLY_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PROPFIND']);

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

/** One header value as a string (Node gives arrays for repeated `set-cookie` and the like). */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * The HTTP client of one transport: Node's own `http`/`https` connections (direct, or through
 * the proxy `proxyForUrl` names for each request), credentials, manual redirects and retries.
 */
export class HttpClient {
  readonly settings: ClientSettings;
  /** Created on the first request: a transport that never talks opens nothing. */
  private connections: HttpConnections | undefined;
  private readonly netrcCache = new Map<string, Promise<{ login?: string; password?: string } | undefined>>();

  constructor(settings: ClientSettings) {
    this.settings = settings;
  }

  /** Anything the network threw, as the transport's one-line coded error; timeouts name the option that set them. */
  failure(error: unknown, operation: string, display: string, signal?: AbortSignal): BentoportError {
    return networkFailure(COMPONENT, operation, display, error, { signal });
  }

  private netrcFor(hostname: string): Promise<{ login?: string; password?: string } | undefined> {
    const { netrc } = this.settings;
    const { env } = this.settings.network;
    if (netrc === false) return Promise.resolve(undefined);
    let found = this.netrcCache.get(hostname);
    if (found === undefined) {
      found = netrcCredentials(hostname, typeof netrc === 'string' ? { env: { ...env, NETRC: netrc } } : { env });
      this.netrcCache.set(hostname, found);
    }
    return found;
  }

  /**
   * Headers that go only to the target's own origin: the transport's `headers` option, the
   * `header.*` parameters, and `Authorization` from the URL's user info or `~/.netrc`.
   */
  async originHeaders(target: RequestTarget): Promise<Record<string, string>> {
    const headers = { ...lowerCaseKeys(this.settings.headers), ...lowerCaseKeys(target.headers) };
    if (headers.authorization === undefined) {
      let credentials = target.credentials;
      if (credentials === undefined) {
        const found = await this.netrcFor(target.url.hostname);
        if (found?.login !== undefined || found?.password !== undefined) credentials = { user: found.login ?? '', password: found.password ?? '' };
      }
      if (credentials !== undefined) {
        headers.authorization = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
      }
    }
    return headers;
  }

  /**
   * Send one request, following redirects by hand: headers bound to the origin (credentials,
   * custom headers) are dropped for good once a redirect leaves it. Transient failures and
   * statuses (408, 429, 5xx) of requests without a stream body are retried with backoff; once
   * the retries are spent, a transient status is returned like any other. The caller consumes or
   * dumps the body.
   */
  async send(target: RequestTarget, operation: string, options: SendOptions): Promise<HttpResponse> {
    const { method, signal } = options;
    const follow = options.followRedirects ?? READ_ONLY_METHODS.has(method);
    const streaming = options.body !== undefined && options.body !== null && typeof options.body === 'object' && !Buffer.isBuffer(options.body);
    const retry = options.retry ?? !streaming;
    const { retries, retryDelayMs } = this.settings.network;
    const origin = target.url.origin;
    let bound: Record<string, string> | undefined = await this.originHeaders(target);
    let url = options.url ?? target.url;
    // Read when a retry is told, so a retry after a redirect names the URL that failed.
    let display = displayUrl(url, target.credentials?.user);
    const allowed = retry ? retries : 0;
    const onRetry = (attempt: number, delayMs: number, error: unknown) =>
      reportRetries({ onProgress: options.onProgress, operation: READ_ONLY_METHODS.has(method) ? 'import' : 'export', target: `${operation} ${display}`, retries: allowed })?.(attempt, delayMs, error);
    const budget = retryBudget({ retries: allowed, retryDelayMs, signal, onRetry });
    let currentMethod = method;
    let body = options.body;
    const redirects: URL[] = [];
    for (;;) {
      if (bound !== undefined && url.origin !== origin) bound = undefined;
      display = displayUrl(url, bound === undefined ? undefined : target.credentials?.user);
      throwIfAborted(signal, COMPONENT, operation, display);
      const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...(bound ?? {}), ...lowerCaseKeys(options.headers ?? {}) };
      let response: Awaited<ReturnType<HttpConnections['request']>>;
      try {
        this.connections ??= httpConnections(this.settings.network);
        response = await this.connections.request(url, { method: currentMethod, headers, body: body ?? null, signal });
      } catch (error) {
        const failure = this.failure(error, operation, display, signal);
        await this.#backOff(budget, failure, operation, display, signal);
        continue;
      }
      const status = response.status;
      if (isTransientHttpStatus(status) && budget.failures < (retry ? retries : 0)) {
        await discardBody(response.body);
        const busy = pluginFailure(COMPONENT, 'ERR_IO', operation, display, String(status), { transient: true });
        await this.#backOff(budget, busy, operation, display, signal);
        continue;
      }
      const location = headerValue(response.headers, 'location');
      if (follow && REDIRECT_STATUSES.has(status) && location !== undefined) {
        await discardBody(response.body);
        if (redirects.length >= this.settings.maxRedirects) {
          throw pluginFailure(COMPONENT, 'ERR_IO', operation, target.display, `more than ${this.settings.maxRedirects} redirects`);
        }
        let next: URL;
        try {
          next = new URL(location, url);
        } catch (error) {
          throw pluginFailure(COMPONENT, 'ERR_IO', operation, target.display, 'redirected to an invalid URL', { cause: error });
        }
        if (next.protocol !== 'http:' && next.protocol !== 'https:') {
          throw pluginFailure(COMPONENT, 'ERR_IO', operation, target.display, `redirected to a ${next.protocol} URL, which is not followed`);
        }
        // 303 turns anything but HEAD into GET; 301/302 keep GET and HEAD (the only methods followed then).
        if (status === 303 && currentMethod !== 'HEAD') {
          currentMethod = 'GET';
          body = null;
        } else if ((status === 301 || status === 302) && currentMethod !== 'GET' && currentMethod !== 'HEAD') {
          return { status, headers: response.headers, body: response.body, url, redirects };
        }
        redirects.push(next);
        url = next;
        continue;
      }
      return { status, headers: response.headers, body: response.body, url, redirects };
    }
  }

  /** Wait out the backoff before another attempt; throw the failure itself once none is left (ERR_ABORTED once the signal fired). */
  async #backOff(budget: RetryBudget, failure: BentoportError, operation: string, display: string, signal: AbortSignal | undefined): Promise<void> {
    try {
      await budget.afterFailure(failure);
    } catch {
      throw signal?.aborted ? abortedFailure(COMPONENT, operation, display, signal) : failure;
    }
  }

  /** Close every connection this client opened. */
  close(): Promise<void> {
    this.connections?.close();
    this.connections = undefined;
    return Promise.resolve();
  }
}
