import { proxyForUrl } from '@bentoport/core';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';

/** Timeouts in milliseconds, each per network operation (as httpx applies them), never for a whole transfer. */
export interface DispatcherTimeouts {
  /** Establishing a connection (TCP + TLS). */
  connect: number;
  /** Waiting for response headers once the request body is sent, and for each read of a body. */
  idle: number;
}

/**
 * One undici dispatcher per (proxy, timeouts) pair, chosen per URL through core's
 * `proxyForUrl`, so `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` apply to the API and to presigned
 * URLs alike (Node's own `fetch` ignores them).
 */
export class Dispatchers {
  private readonly cache = new Map<string, Dispatcher>();

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  for(url: URL, timeouts: DispatcherTimeouts): Dispatcher {
    const proxy = proxyForUrl(url, this.env);
    const key = `${proxy ?? ''}|${timeouts.connect}|${timeouts.idle}`;
    let dispatcher = this.cache.get(key);
    if (!dispatcher) {
      const settings = { connect: { timeout: timeouts.connect }, headersTimeout: timeouts.idle, bodyTimeout: timeouts.idle };
      dispatcher = proxy === undefined ? new Agent(settings) : new ProxyAgent({ uri: proxy, ...settings, proxyTls: { timeout: timeouts.connect } });
      this.cache.set(key, dispatcher);
    }
    return dispatcher;
  }
}
