import { BentoportError, proxyForUrl, redact } from '@bentoport/core';
import { Agent, ProxyAgent, fetch, type Dispatcher, type Response } from 'undici';
import type { OciCredentials } from './docker-credentials.js';

/** How the client reaches one registry. */
export interface RegistryClientOptions {
  /** `host[:port]`. */
  host: string;
  scheme: 'http' | 'https';
  insecure: boolean;
  env: NodeJS.ProcessEnv;
  /** Looked up lazily, on the first challenge. */
  credentials: () => Promise<OciCredentials | undefined>;
  /** Per-request timeout for headers and each body read, ms. */
  timeoutMs: number;
  userAgent: string;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: Buffer;
  /** The token scope the request needs: `repository:team/svc:pull,push`. */
  scope: string;
  signal?: AbortSignal;
  /** Follow redirects (blob GETs go to storage backends). @default true */
  redirect?: boolean;
}

export interface RegistryClient {
  readonly baseUrl: string;
  /** One request, with authentication handled: the answer whatever its status (check `status`). */
  request(method: string, pathOrUrl: string, options: RequestOptions): Promise<Response>;
  /** A coded error for an unexpected answer: 401/403 → ERR_AUTH, 404 → ERR_NOT_FOUND, else ERR_IO. */
  failure(response: Response, method: string, what: string): Promise<BentoportError>;
  close(): Promise<void>;
}

interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/** Parse `Bearer realm="…",service="…",scope="…"` (quoted values may hold commas). */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const scheme = (match[1] as string).toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  for (const part of (match[2] as string).matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[(part[1] as string).toLowerCase()] = part[2] !== undefined ? part[2].replace(/\\(.)/g, '$1') : (part[3] ?? '');
  }
  return { scheme, params };
}

/** The registry's error codes and messages from a JSON error body, for one-line messages. */
async function errorSummary(response: Response): Promise<string> {
  let text = '';
  try {
    text = (await response.text()).slice(0, 2000);
  } catch {
    return '';
  }
  try {
    const body = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    const parts = (body.errors ?? []).map((error) => [error.code, error.message].filter(Boolean).join(': '));
    if (parts.length > 0) return parts.join('; ');
  } catch {
    // not JSON
  }
  return text.trim().split('\n')[0] ?? '';
}

function basicHeader(credentials: OciCredentials): string | undefined {
  if (credentials.username === undefined || credentials.password === undefined) return undefined;
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/**
 * A small OCI distribution client: undici's fetch through a direct agent or the proxy
 * `proxyForUrl` names, TLS verification off only with `insecure`, and the three ways registries
 * authenticate: none, Basic, and the bearer-token flow (challenge → token endpoint → scoped token,
 * cached per scope).
 */
export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  const baseUrl = `${options.scheme}://${options.host}`;
  const dispatchers = new Map<string, Dispatcher>();
  const tls = { rejectUnauthorized: !options.insecure };
  const timeouts = { headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs };

  function dispatcherFor(url: string): Dispatcher {
    const proxy = proxyForUrl(url, options.env) ?? '';
    let dispatcher = dispatchers.get(proxy);
    if (!dispatcher) {
      dispatcher = proxy
        ? new ProxyAgent({ uri: proxy, requestTls: tls, proxyTls: tls, ...timeouts })
        : new Agent({ connect: tls, ...timeouts });
      dispatchers.set(proxy, dispatcher);
    }
    return dispatcher;
  }

  let mode: Challenge | undefined;
  let credentialsLoaded: Promise<OciCredentials | undefined> | undefined;
  const tokens = new Map<string, string>();
  const loadCredentials = () => (credentialsLoaded ??= options.credentials());

  async function fetchToken(challenge: Challenge, scopes: string[], signal: AbortSignal | undefined): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm) throw new BentoportError('ERR_AUTH', `[registry-oci] ${options.host}: bearer challenge without a realm`);
    const credentials = (await loadCredentials()) ?? {};
    const url = new URL(realm);
    const headers: Record<string, string> = { 'user-agent': options.userAgent };
    let response: Response;
    try {
      if (credentials.identityToken) {
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.identityToken, client_id: 'bentoport' });
        if (challenge.params.service) form.set('service', challenge.params.service);
        form.set('scope', scopes.join(' '));
        response = await fetch(url, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
          body: form.toString(),
          dispatcher: dispatcherFor(url.href),
          signal,
        });
      } else {
        if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
        for (const scope of scopes) url.searchParams.append('scope', scope);
        const basic = basicHeader(credentials);
        if (basic) headers.authorization = basic;
        response = await fetch(url, { headers, dispatcher: dispatcherFor(url.href), signal });
      }
    } catch (error) {
      throw networkError(error, 'GET', realm);
    }
    if (response.status === 401 || response.status === 403) {
      const summary = await errorSummary(response);
      throw new BentoportError('ERR_AUTH', `[registry-oci] token ${redact(realm)}: ${response.status} ${response.statusText}: credentials refused${summary ? ` (${summary})` : ''}`);
    }
    if (!response.ok) throw new BentoportError('ERR_IO', `[registry-oci] token ${redact(realm)}: ${response.status} ${response.statusText}`);
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new BentoportError('ERR_AUTH', `[registry-oci] token ${redact(realm)}: the answer holds no token`);
    return token;
  }

  function networkError(error: unknown, method: string, url: string): BentoportError {
    if ((error as Error | undefined)?.name === 'AbortError') {
      return new BentoportError('ERR_ABORTED', `[registry-oci] ${method} ${redact(url)}: aborted`, { cause: error });
    }
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.message ?? (error as Error).message;
    return new BentoportError('ERR_IO', `[registry-oci] ${method} ${redact(url)}: ${reason}`, { cause: error });
  }

  async function authorization(scope: string): Promise<string | undefined> {
    if (!mode) return undefined;
    if (mode.scheme === 'basic') {
      const credentials = await loadCredentials();
      return credentials ? basicHeader(credentials) : undefined;
    }
    const token = tokens.get(scope);
    return token ? `Bearer ${token}` : undefined;
  }

  async function send(method: string, url: string, requestOptions: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { 'user-agent': options.userAgent, ...requestOptions.headers };
    const auth = await authorization(requestOptions.scope);
    if (auth) headers.authorization = auth;
    try {
      return await fetch(url, {
        method,
        headers,
        body: requestOptions.body,
        redirect: requestOptions.redirect === false ? 'manual' : 'follow',
        dispatcher: dispatcherFor(url),
        signal: requestOptions.signal,
      });
    } catch (error) {
      throw networkError(error, method, url);
    }
  }

  return {
    baseUrl,
    async request(method, pathOrUrl, requestOptions) {
      const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${baseUrl}${pathOrUrl}`;
      let response = await send(method, url, requestOptions);
      if (response.status !== 401) return response;
      const challenge = parseChallenge(response.headers.get('www-authenticate'));
      if (!challenge) return response;
      await response.body?.cancel().catch(() => undefined);
      if (challenge.scheme === 'basic') {
        if (mode?.scheme === 'basic') return response; // our credentials were refused
        const credentials = await loadCredentials();
        if (!credentials || !basicHeader(credentials)) return response;
        mode = challenge;
      } else {
        mode = challenge;
        const scopes = [...new Set([...requestOptions.scope.split(' '), ...(challenge.params.scope ? challenge.params.scope.split(' ') : [])])];
        tokens.set(requestOptions.scope, await fetchToken(challenge, scopes, requestOptions.signal));
      }
      response = await send(method, url, requestOptions);
      return response;
    },
    async failure(response, method, what) {
      const summary = await errorSummary(response);
      const detail = `${method} ${redact(what)}: ${response.status} ${response.statusText}${summary ? ` (${summary})` : ''}`;
      if (response.status === 401 || response.status === 403) {
        return new BentoportError('ERR_AUTH', `[registry-oci] ${detail}: credentials missing or refused`, { details: { status: response.status } });
      }
      if (response.status === 404) return new BentoportError('ERR_NOT_FOUND', `[registry-oci] ${detail}`, { details: { status: response.status } });
      return new BentoportError('ERR_IO', `[registry-oci] ${detail}`, { details: { status: response.status, summary } });
    },
    async close() {
      await Promise.all([...dispatchers.values()].map((dispatcher) => dispatcher.close().catch(() => undefined)));
      dispatchers.clear();
    },
  };
}
