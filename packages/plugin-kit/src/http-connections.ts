import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type AgentOptions as HttpsAgentOptions } from 'node:https';
import type { Socket } from 'node:net';
import { pipeline, type Duplex, type Readable } from 'node:stream';
import { connect as connectTls, rootCertificates, type ConnectionOptions } from 'node:tls';
import { timeoutError } from './network-failure.js';
import type { ResolvedNetworkOptions } from './network-options.js';
import { proxyForUrl } from './proxy.js';
import { openProxyTunnel, proxyAuthorization, proxyPort } from './proxy-tunnel.js';

/**
 * How long an idle kept-alive connection waits for the next request before it is closed: under
 * the 5 s after which common servers (nginx, Node) drop idle connections themselves, so a request
 * rarely picks a connection the server is closing.
 */
const IDLE_CONNECTION_MS = 4_000;

/** The most of an unwanted body read to keep its connection; a longer one costs a new connection instead. */
const DISCARD_LIMIT_BYTES = 128 * 1024;

/** One request of {@link HttpConnections.request}. */
export interface HttpRequest {
  method: string;
  /** Request headers, lower-case names. @default {} */
  headers?: Record<string, string>;
  /** A stream is piped (chunked unless `content-length` is set); a string or Buffer is sent with its length. @default null */
  body?: string | Buffer | Readable | null | undefined;
  signal?: AbortSignal | undefined;
  /** Milliseconds of silence allowed while waiting for the response and within its body. @default network.timeoutMs */
  timeoutMs?: number | undefined;
}

/** An answer: the status, the headers and the body, which the caller reads or discards. */
export interface HttpResponse {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  /** The body as Node's own response stream: ends at its length, or with the connection when there is none. */
  body: Readable;
  /**
   * The proxy (`http://proxy:3128`, no credentials) that passed on this answer, for an `http:`
   * URL sent through one; undefined when direct or tunnelled. Such an answer may be the proxy's
   * own (a `403` for a blocked host), which the caller can word as the proxy's.
   */
  proxy?: string;
}

/**
 * The HTTP/1.1 connections of one plugin instance, on Node's own `http` and `https`: direct, or
 * through the proxy `proxyForUrl` names for each URL (absolute-form requests for `http:` targets,
 * a `CONNECT` tunnel for `https:` ones), kept alive between requests.
 */
export interface HttpConnections {
  /**
   * Send one request and resolve with the answer once its headers arrive; redirects are the
   * caller's. `connectTimeoutMs` bounds TCP and TLS (and a proxy's CONNECT); `timeoutMs` every
   * silence after that, before the headers and within the body.
   * @throws the network's own errors: system codes (ECONNREFUSED, ECONNRESET …), TLS codes,
   * an `ETIMEDOUT` TimeoutError naming the option, `ABORT_ERR` once the signal fires, or
   * `ERR_PROXY_TUNNEL` when a proxy refuses a tunnel. Turn them into coded errors with `networkFailure`.
   */
  request(url: URL, request: HttpRequest): Promise<HttpResponse>;
  /** Close every connection, idle or not. */
  close(): void;
}

/** The TLS settings of the network options: the system's CAs plus `ca` (Node replaces them when `ca` is given alone). */
function tlsOptions(network: ResolvedNetworkOptions): ConnectionOptions {
  const extra = network.ca === undefined ? [] : [network.ca].flat();
  return { rejectUnauthorized: network.rejectUnauthorized, ...(extra.length === 0 ? {} : { ca: [...rootCertificates, ...extra] }) };
}

/** Keep-alive agents that close a connection once it has been idle for {@link IDLE_CONNECTION_MS}. */
class IdleClosingHttpAgent extends HttpAgent {
  // Node keeps the socket only when this returns true (its typings say void).
  override keepSocketAlive(socket: Duplex): boolean {
    return keepWithIdleLimit(super.keepSocketAlive(socket) as unknown, socket);
  }
}

class IdleClosingHttpsAgent extends HttpsAgent {
  override keepSocketAlive(socket: Duplex): boolean {
    return keepWithIdleLimit(super.keepSocketAlive(socket) as unknown, socket);
  }
}

/** Give a socket Node agreed to keep its idle limit; the agent destroys a free socket on its timeout. */
function keepWithIdleLimit(kept: unknown, socket: Duplex): boolean {
  if (kept !== true) return false;
  (socket as Socket).setTimeout(IDLE_CONNECTION_MS);
  return true;
}

/** An https agent whose connections are TLS inside a CONNECT tunnel through `proxy`. */
class TunnelingAgent extends IdleClosingHttpsAgent {
  constructor(
    private readonly proxy: URL,
    private readonly network: ResolvedNetworkOptions,
    options: HttpsAgentOptions,
  ) {
    super(options);
  }

  override createConnection(options: RequestOptions & ConnectionOptions, callback?: (error: Error | null, socket: Duplex) => void): undefined {
    const host = String(options.host ?? 'localhost');
    const port = Number(options.port ?? 443);
    openProxyTunnel(this.proxy, host, port, { connectTimeoutMs: this.network.connectTimeoutMs, proxyTls: tlsOptions(this.network) }).then(
      (tunnel) => callback?.(null, connectTls({ ...options, socket: tunnel })),
      (error: Error) => callback?.(error, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

/** Where one request goes: the agent, the host and port to connect to, and the request target. */
interface Route {
  agent: HttpAgent;
  secure: boolean;
  host: string;
  port: number;
  path: string;
  headers: Record<string, string>;
  /** The proxy the request goes through (`http://proxy:3128`, no credentials); undefined when direct. */
  proxy?: string;
}

/**
 * Failures to reach a host at all. On a proxied route the host is the proxy (it resolves and
 * connects to the target itself), so these are the proxy's failures, not the target's.
 */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * A connection failure on a proxied route, worded as the proxy's: without it,
 * `connect ECONNREFUSED` reads as if the target were down. The code stays, so the failure is
 * retried as it would be.
 */
function asProxyFailure(error: Error, proxy: string): Error {
  const code = (error as { code?: unknown }).code;
  // A timeout counts only while connecting: one waiting for the answer may be the target's.
  const connectTimeout = code === 'ETIMEDOUT' && /^no (connection|tunnel)/.test(error.message);
  if (typeof code !== 'string' || !(CONNECT_FAILURES.has(code) || connectTimeout)) return error;
  const failure = Object.assign(new Error(`proxy ${proxy} (from the *_PROXY environment variables) could not be reached: ${error.message}`, { cause: error }), { code });
  failure.name = error.name;
  return failure;
}

function bareHost(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, '');
}

function defaultPort(url: URL): number {
  return Number(url.port || (url.protocol === 'https:' ? 443 : 80));
}

/** Create the agent a route key stands for, on first use. */
function createAgent(key: string, network: ResolvedNetworkOptions): HttpAgent {
  const [kind = '', proxy = ''] = key.split(' ');
  const tls = tlsOptions(network);
  if (kind === 'tunnel') return new TunnelingAgent(new URL(proxy), network, { keepAlive: true, ...tls });
  if (kind === 'https' || (kind === 'proxy' && proxy.startsWith('https:'))) return new IdleClosingHttpsAgent({ keepAlive: true, ...tls });
  return new IdleClosingHttpAgent({ keepAlive: true });
}

/**
 * The route of one URL: direct; an absolute-form request to the proxy for `http:` (the proxy
 * fetches it); a CONNECT tunnel for `https:`, so the proxy never sees the request.
 */
function routeOf(url: URL, network: ResolvedNetworkOptions, agentFor: (key: string) => HttpAgent): Route {
  const path = `${url.pathname}${url.search}`;
  const proxyUrl = proxyForUrl(url, network.env);
  if (proxyUrl === undefined) {
    const secure = url.protocol === 'https:';
    return { agent: agentFor(secure ? 'https' : 'http'), secure, host: bareHost(url.hostname), port: defaultPort(url), path, headers: {} };
  }
  const proxy = new URL(proxyUrl);
  if (url.protocol === 'https:') {
    return { agent: agentFor(`tunnel ${proxy.href}`), secure: true, host: bareHost(url.hostname), port: defaultPort(url), path, headers: {}, proxy: proxy.origin };
  }
  const authorization = proxyAuthorization(proxy);
  return {
    agent: agentFor(`proxy ${proxy.href}`),
    secure: proxy.protocol === 'https:',
    host: bareHost(proxy.hostname),
    port: proxyPort(proxy),
    path: `${url.protocol}//${url.host}${path}`,
    headers: { host: url.host, ...(authorization === undefined ? {} : { 'proxy-authorization': authorization }) },
    proxy: proxy.origin,
  };
}

/** Fail a connection that does not open within `connectTimeoutMs` (TCP, and TLS for https). */
function limitConnect(request: ClientRequest, connectTimeoutMs: number, secure: boolean): void {
  request.once('socket', (socket: Socket) => {
    if (!socket.connecting) return;
    const timer = setTimeout(() => request.destroy(timeoutError('no connection', connectTimeoutMs, 'connectTimeoutMs')), connectTimeoutMs);
    const clear = (): void => clearTimeout(timer);
    socket.once(secure ? 'secureConnect' : 'connect', clear);
    socket.once('close', clear);
  });
}

/**
 * Fail a request after `timeoutMs` of silence: before the response as "no response", within its
 * body as a stalled body. The error goes to the response stream too, so its reader sees it.
 */
function limitSilence(request: ClientRequest, timeoutMs: number, response: () => IncomingMessage | undefined): void {
  request.setTimeout(timeoutMs, () => {
    const answered = response();
    const error = answered === undefined ? timeoutError('no response', timeoutMs, 'timeoutMs') : timeoutError('no byte of the response body', timeoutMs, 'timeoutMs');
    answered?.destroy(error);
    request.destroy(error);
  });
}

/** Send the body: a stream is piped (its failure fails the request), anything else ends the request. */
function sendBody(request: ClientRequest, body: HttpRequest['body']): void {
  if (body === undefined || body === null) {
    request.end();
  } else if (typeof body === 'string' || Buffer.isBuffer(body)) {
    request.end(body);
  } else {
    pipeline(body, request, (error) => {
      if (error) request.destroy(error);
    });
  }
}

/** Send one request over `route` and resolve at its response headers. */
function exchange(route: Route, request: HttpRequest, network: ResolvedNetworkOptions): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    let response: IncomingMessage | undefined;
    const options: RequestOptions = {
      agent: route.agent,
      host: route.host,
      port: route.port,
      path: route.path,
      method: request.method,
      headers: { ...route.headers, ...(request.headers ?? {}) },
      ...(request.signal === undefined ? {} : { signal: request.signal }),
    };
    const outgoing = route.secure ? httpsRequest(options) : httpRequest(options);
    limitConnect(outgoing, network.connectTimeoutMs, route.secure);
    limitSilence(outgoing, request.timeoutMs ?? network.timeoutMs, () => response);
    outgoing.on('error', (error) => {
      // Once answered, a failure belongs to the body: its reader sees it, the request settled long ago.
      if (response === undefined) reject(route.proxy === undefined ? error : asProxyFailure(error, route.proxy));
      // A whole answer stays readable: the failure came after it (a proxy that sends a body after
      // its answer to HEAD and closes: "Data after `Connection: close`"), and destroying it here,
      // before its reader attaches, would leave that reader waiting for an end that never comes.
      else if (!response.complete) response.destroy(error);
    });
    outgoing.once('response', (incoming: IncomingMessage) => {
      response = incoming;
      // Whoever reads the body attaches their own listener; this one only keeps an unread body's failure from crashing the process.
      incoming.on('error', () => {});
      resolve({
        status: incoming.statusCode ?? 0,
        statusText: incoming.statusMessage ?? '',
        headers: incoming.headers,
        body: incoming,
        // Only an absolute-form request is answered by the proxy itself; a tunnel's answers are the target's.
        ...(route.proxy === undefined || route.path.startsWith('/') ? {} : { proxy: route.proxy }),
      });
    });
    sendBody(outgoing, request.body);
  });
}

/**
 * The {@link HttpConnections} of one plugin instance with the network options applied: agents
 * are created on first use, one per kind of route (direct http, direct https, each proxy).
 * @example
 * ```ts
 * const connections = httpConnections(resolveNetworkOptions('transport-x', options));
 * const response = await connections.request(new URL('https://example.com/a.bento'), { method: 'GET', signal });
 * ```
 */
export function httpConnections(network: ResolvedNetworkOptions): HttpConnections {
  const agents = new Map<string, HttpAgent>();
  function agentFor(key: string): HttpAgent {
    let agent = agents.get(key);
    if (agent === undefined) {
      agent = createAgent(key, network);
      agents.set(key, agent);
    }
    return agent;
  }
  return {
    request: (url, request) => exchange(routeOf(url, network, agentFor), request, network),
    close() {
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
    },
  };
}

/**
 * Let go of a body that is not wanted: read up to 128 KiB of it so its connection can carry the
 * next request, or drop the connection when more is left. Never rejects.
 */
export function discardBody(body: Readable): Promise<void> {
  return new Promise((resolve) => {
    if (body.readableEnded || body.destroyed) return resolve();
    let seen = 0;
    body.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DISCARD_LIMIT_BYTES) body.destroy();
    });
    body.once('end', () => resolve());
    body.once('close', () => resolve());
    body.once('error', () => resolve());
    body.resume();
  });
}

/** A whole (small) body as text: an error body, a JSON answer. Rejects with the stream's error. */
export async function readBodyText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
