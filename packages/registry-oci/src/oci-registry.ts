import { apiVersion, type Registry } from '@bentoport/spec';
import path from 'node:path';
import { bentoportStateDirectory, optionChecks, resolveNetworkOptions, uploadJournal, type NetworkOptions } from '@bentoport/plugin-kit';
import { tarFormat } from '@bentoport/format-tar';
import { lookUpCredentials } from './credential-sources.js';
import { listItems } from './list-items.js';
import { latestVersion, listVersions } from './list-versions.js';
import { manifestExists } from './manifests.js';
import type { OciContext } from './oci-context.js';
import { itemPullSize, pullItem } from './pull-item.js';
import { pushItem } from './push-item.js';
import { getSignature, putSignature } from './signature-referrers.js';
import { createRegistryClient } from './registry-client.js';
import { COMPONENT } from './registry-failures.js';
import { parseRegistryUrl, registryScheme } from './registry-url.js';
import { itemRepository } from './repository-names.js';
import { defaultStateDirectory, localState } from './upload-state.js';

/**
 * Options of {@link ociRegistry}. The network options (`connectTimeoutMs`, `timeoutMs`, `retries`,
 * `retryDelayMs`, `rejectUnauthorized`, `ca`, `env`) mean what they mean in every bentoport plugin.
 */
export interface OciRegistryOptions extends NetworkOptions {
  /**
   * The registry and repository prefix: `oci://HOST[:PORT]/REPOSITORY`. Bentos go to
   * `REPOSITORY/<name>:<version>`, models to `REPOSITORY/models/<name>:<version>`; without a
   * REPOSITORY (`oci://HOST[:PORT]`), to `<name>` and `models/<name>` at the registry's root. A
   * `user:password@` in the URL is used as credentials (prefer the options or docker's config).
   */
  url: string;
  /** User name for Basic auth or the token endpoint. @default from the URL, `BENTOPORT_OCI_USERNAME`, or docker's config */
  username?: string;
  /** Password or access token. @default from the URL, `BENTOPORT_OCI_PASSWORD`, or docker's config */
  password?: string;
  /**
   * Read credentials from docker's config (`auths`, `credHelpers`, `credsStore`; a helper is run
   * as `docker-credential-<name> get`), or from this config file.
   * @default true (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`)
   */
  dockerConfig?: boolean | string;
  /** Talk plain HTTP to a registry that is not on a loopback address (loopback always uses HTTP, as Docker does). @default false */
  plainHttp?: boolean;
  /** Bytes per upload `PATCH` (memory used per upload). @default 16777216 (16 MiB) */
  chunkSize?: number;
  /**
   * Where the digest cache and unfinished uploads are kept, or `false` for nowhere. Records of
   * the upload sessions in flight (so that the next push removes what a killed one left) go to
   * its `leftovers/` when it is given, else to `leftovers/` in `$BENTOPORT_STATE_DIR`,
   * `$XDG_STATE_HOME/bentoport` or `~/.local/state/bentoport`.
   * @default `$XDG_CACHE_HOME/bentoport/registry-oci`, else `~/.cache/bentoport/registry-oci`
   */
  cacheDirectory?: string | false;
  /**
   * Milliseconds without progress (no response headers, no body byte) before a request fails,
   * as in every plugin. A closing `PUT` that outlasts it (a registry moving a large blob within
   * its storage) is not sent again: the next attempt first asks whether the registry stored the
   * blob. See the README for the worst case of an operation that stops making progress.
   * @default 30000
   */
  timeoutMs?: number;
  /**
   * Transient failures (a dropped connection, a timeout, 408, 429, 5xx) retried after the first
   * attempt, with backoff: per GET/HEAD request, and per blob upload (whose own requests are not
   * retried inside it, so the two never multiply), which then continues where the registry got
   * to. A push that still fails resumes on the next run.
   * @default 3
   */
  retries?: number;
}

/** Bytes per upload `PATCH`. */
const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;

/**
 * Push and pull bentos and models to any OCI registry (CNCF distribution, Harbor, GHCR, ECR, GAR,
 * Quay) as OCI artifacts, speaking the OCI Distribution Spec over HTTP. Models are layers of
 * their own, as deterministic uncompressed tar, so an unchanged model is never sent twice and
 * every byte is verified on pull. See the package README for the artifact layout and naming.
 *
 * The factory is synchronous and does no I/O: credentials are looked up on the registry's first
 * challenge.
 * @throws {BentoportError} ERR_INVALID_TARGET for a URL that is not `oci://HOST/REPOSITORY` with a
 * valid repository path; ERR_INVALID_OPTION for an out-of-range number (`chunkSize`, `timeoutMs`, …).
 * @throws {TypeError} when `options` is not an object with a `url` string, or an option has the wrong type.
 * @example
 * ```ts
 * import { ociRegistry } from '@bentoport/registry-oci';
 *
 * const registry = ociRegistry({ url: 'oci://ghcr.io/acme/bentos', timeoutMs: 60_000 });
 * // Give it to the engine (`registries: [registry]`), which pushes and pulls through it.
 * await registry.has({ kind: 'bento', name: 'iris_classifier', version: 'abc123' });
 * ```
 */
export function ociRegistry(options: OciRegistryOptions): Registry {
  const context = ociContext(options);
  return {
    apiVersion,
    name: COMPONENT,
    url: context.display,
    capabilities: { separateModels: true, dedup: true, resumableUploads: true, latestVersion: true, signatures: true, listItems: true },
    /** @throws {BentoportError} ERR_AUTH, ERR_IO. */
    has: (ref, operationOptions = {}) => manifestExists(context, itemRepository(context.prefix, ref.kind, ref.name), ref.version, operationOptions.signal),
    /**
     * Blobs first (each HEAD-checked, mounted or uploaded in chunks), the manifest last, so a
     * half-pushed item is never visible.
     * @throws {BentoportError} ERR_AUTH, ERR_IO, ERR_ABORTED.
     */
    push: (item, pushOptions = {}) => pushItem(context, item, pushOptions),
    /**
     * @throws {BentoportError} ERR_NOT_FOUND, ERR_CORRUPT_ARCHIVE (digest or size mismatch: thrown
     * before the iteration ends), ERR_AUTH, ERR_IO, ERR_ABORTED.
     */
    pull: (ref, operationOptions = {}) => pullItem(context, ref, operationOptions),
    size: (ref, operationOptions = {}) => itemPullSize(context, ref, operationOptions),
    /** Versions of `name` (the repository's tags). @throws {BentoportError} ERR_NOT_FOUND, ERR_AUTH, ERR_IO. */
    list: (kind, name, operationOptions = {}) => listVersions(context, kind, name, operationOptions.signal),
    /**
     * Every name's (from the catalog API) or one name's items, from each tag's manifest and config
     * blob; no layer is read. @throws {BentoportError} ERR_IO (no catalog API, and no `name`),
     * ERR_CORRUPT_ARCHIVE, ERR_AUTH, ERR_ABORTED.
     */
    listItems: (kind, listOptions = {}) => listItems(context, kind, listOptions),
    /**
     * The version created last, by the creation time each manifest carries (see the README).
     * @throws {BentoportError} ERR_NOT_FOUND, ERR_AUTH, ERR_IO.
     */
    latest: (kind, name, operationOptions = {}) => latestVersion(context, kind, name, operationOptions.signal),
    /**
     * As an OCI 1.1 referrer of the item's manifest, listed in the referrers tag schema's index
     * when the registry has no referrers API. @throws {BentoportError} ERR_NOT_FOUND, ERR_AUTH, ERR_IO.
     */
    putSignature: (ref, signatureText, operationOptions = {}) => putSignature(context, ref, signatureText, operationOptions),
    /** @throws {BentoportError} ERR_NOT_FOUND, ERR_CORRUPT_ARCHIVE, ERR_AUTH, ERR_IO. */
    getSignature: (ref, operationOptions = {}) => getSignature(context, ref, operationOptions),
  };
}

/** Check the options and build what every operation shares. No I/O. */
function ociContext(options: OciRegistryOptions): OciContext {
  if (typeof options !== 'object' || options === null || typeof options.url !== 'string') {
    throw new TypeError('ociRegistry options must be an object with a url string');
  }
  const check = optionChecks(COMPONENT);
  const url = parseRegistryUrl(options.url);
  const network = resolveNetworkOptions(COMPONENT, options);
  const plainHttp = check.boolean('plainHttp', options.plainHttp, false);
  const cacheDirectory = options.cacheDirectory === false ? undefined : (check.optionalString('cacheDirectory', options.cacheDirectory) ?? defaultStateDirectory(network.env));
  const credentials = () => lookUpCredentials({ username: options.username, password: options.password, url, dockerConfig: options.dockerConfig, env: network.env });
  return {
    client: createRegistryClient({ host: url.host, scheme: registryScheme(url, plainHttp), network, credentials, userAgent: 'bentoport-registry-oci' }),
    host: url.host,
    display: url.display,
    prefix: url.repository,
    tar: tarFormat({ concurrency: 2 }),
    state: localState(cacheDirectory),
    // Beside the unfinished uploads' state when a cacheDirectory is given, else the kit's state
    // directory (from `env`, like the credentials).
    journal: uploadJournal({ directory: path.join(options.cacheDirectory === undefined || options.cacheDirectory === false ? bentoportStateDirectory(network.env) : (cacheDirectory as string), 'leftovers') }),
    chunkSize: check.integer('chunkSize', options.chunkSize, DEFAULT_CHUNK_SIZE, 1),
    retries: network.retries,
    retryDelayMs: network.retryDelayMs,
    modelLayersSeen: new Map(),
  };
}
