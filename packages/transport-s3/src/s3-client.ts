import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { proxyForUrl, type ResolvedNetworkOptions } from '@bentoport/plugin-kit';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { noteProxy } from './s3-failure.js';
import type { S3Target } from './s3-location.js';

/** What the pool needs from the transport's options. */
export interface ClientPoolSettings {
  client: S3Client | undefined;
  endpoint: string | undefined;
  region: string | undefined;
  forcePathStyle: boolean | undefined;
  credentials: S3ClientConfig['credentials'] | undefined;
  proxy: string | false | undefined;
  network: ResolvedNetworkOptions;
  maxSockets: number;
}

/** How one client was configured: what a test or a message may want to know. */
export interface ClientDescription {
  endpoint: string | undefined;
  region: string;
  forcePathStyle: boolean;
  proxy: string | undefined;
}

export interface PooledClient {
  client: S3Client;
  description: ClientDescription;
}

/**
 * The endpoint, from (first wins) a URL parameter, the `endpoint` option, `AWS_ENDPOINT_URL_S3`,
 * `AWS_ENDPOINT_URL`. Read here rather than left to the SDK, because a custom endpoint changes
 * the defaults: path-style addressing, checksums only when required, no region redirects.
 */
function endpointFor(target: S3Target, settings: ClientPoolSettings): string | undefined {
  const fromEnvironment = settings.network.env.AWS_ENDPOINT_URL_S3 || settings.network.env.AWS_ENDPOINT_URL || undefined;
  return target.client.endpoint ?? settings.endpoint ?? fromEnvironment;
}

function explicitRegion(target: S3Target, settings: ClientPoolSettings): string | undefined {
  return target.client.region ?? settings.region ?? (settings.network.env.AWS_REGION || settings.network.env.AWS_DEFAULT_REGION || undefined);
}

/** The proxy for the endpoint's host: one decision per client, from the kit's one reading of the environment. */
function proxyFor(endpoint: string | undefined, region: string | undefined, settings: ClientPoolSettings): string | undefined {
  if (settings.proxy === false) return undefined;
  if (typeof settings.proxy === 'string') return settings.proxy;
  const url = endpoint ?? `https://s3.${region ?? 'us-east-1'}.amazonaws.com`;
  return proxyForUrl(url, settings.network.env);
}

/**
 * The SDK's HTTP handler with the transport's limits on every request: `connectTimeoutMs` to
 * connect, and `timeoutMs` of silence on the socket (no response, or a body that stalls) before
 * the request fails and is retried.
 */
function requestHandler(proxy: string | undefined, settings: ClientPoolSettings): NodeHttpHandler {
  const { network } = settings;
  const agentOptions = { keepAlive: true, maxSockets: settings.maxSockets };
  const tlsOptions = { rejectUnauthorized: network.rejectUnauthorized, ...(network.ca === undefined ? {} : { ca: network.ca }) };
  // The SDK ignores HTTPS_PROXY/HTTP_PROXY: without an agent of ours every request goes direct.
  // Plain https.Agent/http.Agent otherwise, so NODE_EXTRA_CA_CERTS (read by Node's TLS) applies.
  const httpsAgent = proxy === undefined ? new HttpsAgent({ ...agentOptions, ...tlsOptions }) : new HttpsProxyAgent(proxy, { ...agentOptions, ...tlsOptions });
  // Through a forwarding proxy (plain http endpoints) each request gets its own connection: some
  // proxies (tinyproxy 1.11) wait for a body after a HEAD answer and stall the next request on a
  // reused connection.
  const httpAgent = proxy === undefined ? new HttpAgent(agentOptions) : new HttpProxyAgent(proxy, { ...agentOptions, keepAlive: false });
  return new NodeHttpHandler({
    httpAgent,
    httpsAgent,
    connectionTimeout: network.connectTimeoutMs,
    socketTimeout: network.timeoutMs,
  });
}

/**
 * Mark every failure of a proxied client with its proxy, so an answer the proxy gave in S3's stead
 * (a 403 for a blocked host, whose text body the SDK cannot parse as XML) is worded as the proxy's.
 */
function noteProxyOnFailures(client: S3Client, proxy: string): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        throw noteProxy(error, proxy);
      }
    },
    { step: 'initialize', name: 'bentoportProxyOfFailures' },
  );
}

/** Whether the location asks for a client of its own (credentials, endpoint, region or path style in the URL). */
function hasOverrides(target: S3Target): boolean {
  return Object.values(target.client).some((value) => value !== undefined);
}

async function regionOf(client: S3Client): Promise<string | undefined> {
  try {
    return await client.config.region();
  } catch {
    return undefined;
  }
}

async function buildClient(target: S3Target, settings: ClientPoolSettings): Promise<PooledClient> {
  const endpoint = endpointFor(target, settings);
  const custom = endpoint !== undefined;
  const forcePathStyle = target.client.forcePathStyle ?? settings.forcePathStyle ?? custom;
  const credentials =
    target.client.accessKeyId !== undefined && target.client.secretAccessKey !== undefined
      ? { accessKeyId: target.client.accessKeyId, secretAccessKey: target.client.secretAccessKey }
      : settings.credentials;
  let region = explicitRegion(target, settings);
  const make = (withRegion: string | undefined): PooledClient => {
    const proxy = proxyFor(endpoint, withRegion, settings);
    const config: S3ClientConfig = {
      forcePathStyle,
      requestHandler: requestHandler(proxy, settings),
      // We compute the SHA-256 of every part ourselves and verify downloads ourselves; the SDK's
      // default CRC32 headers (since 3.729) are refused by several S3-compatible stores.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      followRegionRedirects: !custom,
    };
    if (endpoint !== undefined) config.endpoint = endpoint;
    if (withRegion !== undefined) config.region = withRegion;
    if (credentials !== undefined) config.credentials = credentials;
    // The transport's `retries` already retry every request; the SDK's own retries would multiply them.
    config.maxAttempts = 1;
    const client = new S3Client(config);
    if (proxy !== undefined) noteProxyOnFailures(client, proxy);
    return { client, description: { endpoint, region: withRegion ?? '', forcePathStyle, proxy } };
  };
  if (region === undefined) {
    // Let the SDK's own chain (shared config file, profile) find a region; fall back to us-east-1,
    // which S3 redirects from and S3-compatible stores mostly ignore.
    const probe = make(undefined);
    region = await regionOf(probe.client);
    if (region !== undefined) return { client: probe.client, description: { ...probe.description, region } };
    probe.client.destroy();
    region = 'us-east-1';
  }
  return make(region);
}

/** Lazily created clients, one per distinct configuration a location asks for. */
export interface ClientPool {
  get(target: S3Target): Promise<PooledClient>;
  destroy(): void;
}

export function createClientPool(settings: ClientPoolSettings): ClientPool {
  const clients = new Map<string, Promise<PooledClient>>();
  return {
    get(target) {
      if (settings.client !== undefined && !hasOverrides(target)) {
        const given = settings.client;
        return Promise.resolve({ client: given, description: { endpoint: undefined, region: '', forcePathStyle: false, proxy: undefined } });
      }
      const secretDigest = target.client.secretAccessKey === undefined ? '' : createHash('sha256').update(target.client.secretAccessKey).digest('hex');
      const cacheKey = JSON.stringify([target.client.endpoint, target.client.region, target.client.forcePathStyle, target.client.accessKeyId, secretDigest]);
      let pooled = clients.get(cacheKey);
      if (pooled === undefined) {
        pooled = buildClient(target, settings);
        // A failed build is not cached: the next call tries again.
        pooled.catch(() => clients.delete(cacheKey));
        clients.set(cacheKey, pooled);
      }
      return pooled;
    },
    destroy() {
      for (const pooled of clients.values()) void pooled.then(({ client }) => client.destroy(), () => {});
      clients.clear();
    },
  };
}
