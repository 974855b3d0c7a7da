import { discardBody, httpConnections, pluginFailure, type HttpResponse, type ResolvedNetworkOptions } from '@bentoport/plugin-kit';
import { COMPONENT, networkFailure } from './registry-failures.js';
import { registryResponse, type RegistryResponse } from './registry-response.js';

/** Redirects followed per request: registries send blob downloads to storage, once. */
const MAX_REDIRECTS = 10;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** One request as the registry client sends it. */
export interface RegistryRequest {
  method: string;
  headers: Record<string, string>;
  body?: Buffer | string | undefined;
  signal?: AbortSignal | undefined;
}

/** The HTTP of one registry instance: Node's own connections, redirects followed. */
export interface RegistryHttp {
  /**
   * Send one request and follow redirects (up to 10), as `fetch` does: `Authorization` is
   * dropped once a redirect leaves the origin (a blob handed to signed storage must not get the
   * registry's token), and 303 (or 301/302 after POST) turns the request into a body-less GET.
   * @throws the network's own error when no answer came (map it with `networkFailure`), ERR_IO
   * for too many redirects or one to another scheme.
   */
  send(url: string, request: RegistryRequest): Promise<RegistryResponse>;
  close(): void;
}

/** The request to send after a redirect with `status`, as fetch rewrites it. */
function redirected(request: RegistryRequest, status: number, from: URL, to: URL): RegistryRequest {
  const headers = { ...request.headers };
  if (to.origin !== from.origin) delete headers.authorization;
  const toGet = (status === 303 && request.method !== 'HEAD') || ((status === 301 || status === 302) && request.method === 'POST');
  if (!toGet) return { ...request, headers };
  delete headers['content-type'];
  delete headers['content-length'];
  return { method: 'GET', headers, signal: request.signal };
}

/** The URL a redirect answer points to, or undefined when the answer is not a redirect. */
function redirectTarget(response: HttpResponse, from: URL, method: string): URL | undefined {
  const location = response.headers.location;
  if (!REDIRECT_STATUSES.has(response.status) || location === undefined) return undefined;
  const next = new URL(location, from);
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw pluginFailure(COMPONENT, 'ERR_IO', method, from.href, `redirected to a ${next.protocol} URL, which is not followed`);
  }
  return next;
}

/**
 * Connections that apply the network options to every request: `connectTimeoutMs` to open the
 * connection (TCP and TLS, also through a proxy), `timeoutMs` to wait for the response headers and
 * for each read of a body, so a registry that accepts and never answers fails instead of hanging;
 * `rejectUnauthorized` and `ca` to the TLS of the registry and of an HTTPS proxy; the proxy
 * `proxyForUrl` names for each URL. Created on first use: an instance that never talks opens nothing.
 */
export function registryHttp(network: ResolvedNetworkOptions): RegistryHttp {
  let connections: ReturnType<typeof httpConnections> | undefined;
  return {
    async send(start, first) {
      connections ??= httpConnections(network);
      let url = new URL(start);
      let request = first;
      for (let hop = 0; ; hop++) {
        const response = await connections.request(url, { method: request.method, headers: request.headers, body: request.body ?? null, signal: request.signal });
        const next = redirectTarget(response, url, request.method);
        if (next === undefined) {
          const { method } = request;
          const answered = url.href;
          return registryResponse(response, (error) => networkFailure(error, method, answered));
        }
        await discardBody(response.body);
        if (hop >= MAX_REDIRECTS) throw pluginFailure(COMPONENT, 'ERR_IO', first.method, start, `more than ${MAX_REDIRECTS} redirects`);
        request = redirected(request, response.status, url, next);
        url = next;
      }
    },
    close() {
      connections?.close();
      connections = undefined;
    },
  };
}
