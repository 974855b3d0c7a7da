import { proxyForUrl, type ResolvedNetworkOptions } from '@bentoport/plugin-kit';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';

/** The undici dispatchers of one registry instance, one per proxy. */
export interface RegistryDispatchers {
  /** The dispatcher for `url`: direct, or through the proxy `proxyForUrl` names for it. */
  for(url: string): Dispatcher;
}

/**
 * Dispatchers that apply the network options to every request: `connectTimeoutMs` to open the
 * connection (TCP and TLS, also through a proxy), `timeoutMs` to wait for the response headers and
 * for each read of a body, so a registry that accepts and never answers fails instead of hanging;
 * `rejectUnauthorized` and `ca` to the TLS of the registry and of an HTTPS proxy. Created on first
 * use: an instance that never talks opens nothing.
 */
export function registryDispatchers(network: ResolvedNetworkOptions): RegistryDispatchers {
  const cache = new Map<string, Dispatcher>();
  const tls = { rejectUnauthorized: network.rejectUnauthorized, timeout: network.connectTimeoutMs, ...(network.ca === undefined ? {} : { ca: network.ca }) };
  const timeouts = { headersTimeout: network.timeoutMs, bodyTimeout: network.timeoutMs };
  return {
    for(url) {
      const proxy = proxyForUrl(url, network.env) ?? '';
      let dispatcher = cache.get(proxy);
      if (!dispatcher) {
        dispatcher = proxy ? new ProxyAgent({ uri: proxy, requestTls: tls, proxyTls: tls, ...timeouts }) : new Agent({ connect: tls, ...timeouts });
        cache.set(proxy, dispatcher);
      }
      return dispatcher;
    },
  };
}
