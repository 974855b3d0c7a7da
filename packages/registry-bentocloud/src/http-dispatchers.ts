import { proxyForUrl, type ResolvedNetworkOptions } from '@bentoport/plugin-kit';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';

/**
 * One undici dispatcher per (proxy, idle timeout) pair, chosen per URL through the kit's
 * `proxyForUrl`, so `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` apply to the API and to presigned URLs
 * alike (Node's own `fetch` ignores them). Every connection gets `connectTimeoutMs` (TCP and TLS,
 * also to a proxy) and the TLS settings (`rejectUnauthorized`, `ca`) of the network options.
 */
export class Dispatchers {
  private readonly cache = new Map<string, Dispatcher>();

  constructor(private readonly network: ResolvedNetworkOptions) {}

  /**
   * The dispatcher for `url` that waits at most `idleTimeoutMs` for response headers once a request
   * is sent and for each read of a body: never a limit on a whole transfer.
   */
  for(url: URL, idleTimeoutMs: number): Dispatcher {
    const proxy = proxyForUrl(url, this.network.env);
    const key = `${proxy ?? ''}|${idleTimeoutMs}`;
    let dispatcher = this.cache.get(key);
    if (!dispatcher) {
      const { connectTimeoutMs, rejectUnauthorized, ca } = this.network;
      const tls = { timeout: connectTimeoutMs, rejectUnauthorized, ...(ca === undefined ? {} : { ca }) };
      const timeouts = { headersTimeout: idleTimeoutMs, bodyTimeout: idleTimeoutMs };
      dispatcher = proxy === undefined ? new Agent({ connect: tls, ...timeouts }) : new ProxyAgent({ uri: proxy, requestTls: tls, proxyTls: tls, ...timeouts });
      this.cache.set(key, dispatcher);
    }
    return dispatcher;
  }
}
