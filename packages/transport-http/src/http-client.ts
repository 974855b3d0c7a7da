import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { rootCertificates } from 'node:tls';
import { netrcCredentials, proxyForUrl } from '@bentoport/core';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';
import { abortedFailure, httpFailure, isTransientNetworkError, networkFailure } from './http-errors.js';
import { displayUrl, type RequestTarget } from './request-target.js';

/** What the client needs from the transport's options, resolved. */
export interface ClientSettings {
  env: NodeJS.ProcessEnv;
  ca: (string | Buffer)[] | undefined;
  connectTimeout: number;
  timeout: number;
  maxRedirects: number;
  retries: number;
  retryDelay: number;
  headers: Record<string, string>;
  /** `false`: never read a netrc file; a string: that file; `true`: `$NETRC` or `~/.netrc`. */
  netrc: boolean | string;
  dispatcher: Dispatcher | undefined;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Dispatcher.ResponseData['body'];
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
}

const USER_AGENT = 'bentoport-transport-http';
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const RETRY_STATUSES = new Set([429, 502, 503, 504]);
const READ_ONLY_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PROPFIND']);
const MAX_RETRY_DELAY = 10_000;

/** Backoff before retry `attempt` (1-based): doubling from the base delay, capped at 10 s. */
export function retryDelayFor(attempt: number, base: number): number {
  return Math.min(base * 2 ** (attempt - 1), MAX_RETRY_DELAY);
}

export async function backoff(attempt: number, base: number, signal: AbortSignal | undefined, operation: string, display: string): Promise<void> {
  try {
    await sleep(retryDelayFor(attempt, base), undefined, signal === undefined ? undefined : { signal });
  } catch {
    throw abortedFailure(operation, display, signal as AbortSignal);
  }
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

/** One header value as a string (undici gives arrays for repeated headers). */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * The HTTP client of one transport: undici agents (direct, or one per proxy as `proxyForUrl`
 * decides for each request), credentials, manual redirects and retries.
 */
export class HttpClient {
  readonly settings: ClientSettings;
  private direct: Dispatcher | undefined;
  private readonly proxies = new Map<string, Dispatcher>();
  private readonly netrcCache = new Map<string, Promise<{ login?: string; password?: string } | undefined>>();

  constructor(settings: ClientSettings) {
    this.settings = settings;
  }

  private agentOptions(): Agent.Options {
    const ca = this.settings.ca === undefined ? undefined : [...rootCertificates, ...this.settings.ca];
    return {
      connect: { timeout: this.settings.connectTimeout, ...(ca === undefined ? {} : { ca }) },
      headersTimeout: this.settings.timeout,
      bodyTimeout: this.settings.timeout,
      keepAliveTimeout: 4_000,
    };
  }

  /** The dispatcher for one URL: the user's, a proxy agent when the environment names a proxy, else a direct agent. */
  dispatcherFor(url: URL): Dispatcher {
    if (this.settings.dispatcher !== undefined) return this.settings.dispatcher;
    const proxy = proxyForUrl(url, this.settings.env);
    if (proxy === undefined) {
      this.direct ??= new Agent(this.agentOptions());
      return this.direct;
    }
    let agent = this.proxies.get(proxy);
    if (agent === undefined) {
      const options = this.agentOptions();
      agent = new ProxyAgent({ ...options, uri: proxy, requestTls: options.connect as ProxyAgent.Options['requestTls'] });
      this.proxies.set(proxy, agent);
    }
    return agent;
  }

  private netrcFor(hostname: string): Promise<{ login?: string; password?: string } | undefined> {
    const { netrc, env } = this.settings;
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
   * custom headers) are dropped for good once a redirect leaves it. Transient failures of
   * requests without a stream body are retried with backoff. The caller consumes or dumps the body.
   */
  async send(target: RequestTarget, operation: string, options: SendOptions): Promise<HttpResponse> {
    const { method, signal } = options;
    const follow = options.followRedirects ?? READ_ONLY_METHODS.has(method);
    const streaming = options.body !== undefined && options.body !== null && typeof options.body === 'object' && !Buffer.isBuffer(options.body);
    const retry = options.retry ?? !streaming;
    const origin = target.url.origin;
    let bound: Record<string, string> | undefined = await this.originHeaders(target);
    let url = options.url ?? target.url;
    let currentMethod = method;
    let body = options.body;
    const redirects: URL[] = [];
    for (let attempt = 0; ; ) {
      if (signal?.aborted) throw abortedFailure(operation, displayUrl(url, target.credentials?.user), signal);
      if (bound !== undefined && url.origin !== origin) bound = undefined;
      const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...(bound ?? {}), ...lowerCaseKeys(options.headers ?? {}) };
      let response: Dispatcher.ResponseData;
      try {
        response = await this.dispatcherFor(url).request({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: currentMethod as Dispatcher.HttpMethod,
          headers,
          body: body ?? null,
          signal,
        });
      } catch (error) {
        const display = displayUrl(url, bound === undefined ? undefined : target.credentials?.user);
        if (retry && !signal?.aborted && isTransientNetworkError(error) && attempt < this.settings.retries) {
          attempt++;
          await backoff(attempt, this.settings.retryDelay, signal, operation, display);
          continue;
        }
        throw networkFailure(error, operation, display, signal);
      }
      const status = response.statusCode;
      if (retry && RETRY_STATUSES.has(status) && attempt < this.settings.retries) {
        await response.body.dump().catch(() => {});
        attempt++;
        await backoff(attempt, this.settings.retryDelay, signal, operation, displayUrl(url));
        continue;
      }
      const location = headerValue(response.headers, 'location');
      if (follow && REDIRECT_STATUSES.has(status) && location !== undefined) {
        await response.body.dump().catch(() => {});
        if (redirects.length >= this.settings.maxRedirects) {
          throw httpFailure('ERR_IO', operation, target.display, `more than ${this.settings.maxRedirects} redirects`);
        }
        let next: URL;
        try {
          next = new URL(location, url);
        } catch (error) {
          throw httpFailure('ERR_IO', operation, target.display, 'redirected to an invalid URL', error);
        }
        if (next.protocol !== 'http:' && next.protocol !== 'https:') {
          throw httpFailure('ERR_IO', operation, target.display, `redirected to a ${next.protocol} URL, which is not followed`);
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

  /** Close every agent this client opened (not a dispatcher the user passed). */
  async close(): Promise<void> {
    const agents = [...this.proxies.values(), ...(this.direct === undefined ? [] : [this.direct])];
    this.proxies.clear();
    this.direct = undefined;
    await Promise.all(agents.map((agent) => agent.close().catch(() => {})));
  }
}
