import type { BentoportError } from '@bentoport/spec';
import { isTransientHttpStatus, withRetry, type ResolvedNetworkOptions } from '@bentoport/plugin-kit';
import type { OciCredentials } from './docker-credentials.js';
import { registryAuthentication, type RegistryAuthentication } from './registry-auth.js';
import { networkFailure, statusFailure } from './registry-failures.js';
import { registryHttp, type RegistryHttp } from './registry-http.js';
import type { RegistryResponse } from './registry-response.js';

/** How the client reaches one registry. */
export interface RegistryClientOptions {
  /** `host[:port]`. */
  host: string;
  scheme: 'http' | 'https';
  /** Timeouts, retries of idempotent requests, TLS and proxies. */
  network: ResolvedNetworkOptions;
  /** Looked up lazily, on the first challenge. */
  credentials: () => Promise<OciCredentials | undefined>;
  userAgent: string;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: Buffer;
  /** The token scope the request needs: `repository:team/svc:pull,push`. */
  scope: string;
  signal?: AbortSignal | undefined;
  /**
   * Retries of a GET or HEAD after a transient failure: 0 for a request whose caller retries the
   * work around it, so the two loops do not multiply.
   * @default network.retries
   */
  retries?: number;
}

export interface RegistryClient {
  readonly baseUrl: string;
  /**
   * One request, with authentication handled: the answer whatever its status (check `status`).
   * GET and HEAD, which change nothing, are retried on transient failures and statuses.
   * @throws {BentoportError} ERR_IO (transient when worth a retry) when no answer came,
   * ERR_ABORTED, ERR_AUTH for a certificate that does not verify or a refused token.
   */
  request(method: string, pathOrUrl: string, options: RequestOptions): Promise<RegistryResponse>;
  /** A coded error for an unexpected answer: 401/403 → ERR_AUTH, 404 → ERR_NOT_FOUND, else ERR_IO. */
  failure(response: RegistryResponse, method: string, target: string): Promise<BentoportError>;
}

/** The token scope to read a repository. */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

/** The token scope to write a repository (and read it, which a push does too). */
export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

/** Let go of an answer whose body is not needed, so its connection is reused. */
export function discardBody(response: RegistryResponse): Promise<void> {
  return response.discard();
}

/** Send once (following redirects), with the authorization the scope has by now. */
async function send(options: RegistryClientOptions, http: RegistryHttp, auth: RegistryAuthentication, method: string, url: string, requestOptions: RequestOptions): Promise<RegistryResponse> {
  const headers: Record<string, string> = { 'user-agent': options.userAgent, ...requestOptions.headers };
  const authorization = await auth.authorization(requestOptions.scope);
  if (authorization) headers.authorization = authorization;
  try {
    return await http.send(url, { method, headers, body: requestOptions.body, signal: requestOptions.signal });
  } catch (error) {
    throw networkFailure(error, method, url);
  }
}

/**
 * A small OCI distribution client: Node's own HTTP/1.1 connections, direct or through the proxy
 * `proxyForUrl` names, with the network options' timeouts and TLS settings, and the three ways
 * registries authenticate: none, Basic, and the bearer-token flow (challenge → token endpoint →
 * scoped token, cached per scope).
 */
export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  const baseUrl = `${options.scheme}://${options.host}`;
  const http = registryHttp(options.network);
  const auth = registryAuthentication({ host: options.host, credentials: options.credentials, userAgent: options.userAgent, http });
  const { retryDelayMs } = options.network;

  async function authenticated(method: string, url: string, requestOptions: RequestOptions): Promise<RegistryResponse> {
    const response = await send(options, http, auth, method, url, requestOptions);
    if (response.status !== 401) return response;
    if (!(await auth.answerChallenge(response, requestOptions.scope, requestOptions.signal))) return response;
    return send(options, http, auth, method, url, requestOptions);
  }

  return {
    baseUrl,
    async request(method, pathOrUrl, requestOptions) {
      const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${baseUrl}${pathOrUrl}`;
      if (method !== 'GET' && method !== 'HEAD') return authenticated(method, url, requestOptions);
      const retries = requestOptions.retries ?? options.network.retries;
      return withRetry(
        async (attempt) => {
          const response = await authenticated(method, url, requestOptions);
          // A busy registry's answer is retried while retries remain; the last one is the caller's.
          if (attempt < retries && isTransientHttpStatus(response.status)) throw await statusFailure(response, method, url);
          return response;
        },
        { retries, retryDelayMs, ...(requestOptions.signal ? { signal: requestOptions.signal } : {}) },
      );
    },
    failure: statusFailure,
  };
}
