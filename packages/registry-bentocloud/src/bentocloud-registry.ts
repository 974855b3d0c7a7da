import { apiVersion, type Registry } from '@bentoport/spec';
import { optionChecks, resolveNetworkOptions, type NetworkOptions } from '@bentoport/plugin-kit';
import { tarFormat } from '@bentoport/format-tar';
import { tarByteLength } from '@bentoport/tar';
import { COMPONENT } from './cloud-errors.js';
import { createCloudSession, type CloudSession } from './cloud-session.js';
import { listItems } from './list-items.js';
import { pullItem } from './pull-item.js';
import { pushItem } from './push-item.js';
import { getItem, latestVersion } from './remote-items.js';

/**
 * Options of {@link bentoCloudRegistry}. All are optional: by default it uses BentoML's own
 * configuration. The network options (`connectTimeoutMs`, `timeoutMs`, `retries`, `retryDelayMs`,
 * `rejectUnauthorized`, `ca`, `env`) mean what they mean in every bentoport plugin.
 */
export interface BentoCloudRegistryOptions extends NetworkOptions {
  /**
   * The context of `.yatai.yaml` to use (BentoML's `--context`).
   * @default `BENTOML_CLOUD_CONTEXT`, else the file's `current_context_name`, else `default`
   */
  context?: string;
  /**
   * BentoML home whose `.yatai.yaml` holds the contexts.
   * @default `$BENTOML_HOME`, else `~/bentoml` (with `~` and `$VAR` expanded, as BentoML does)
   */
  home?: string;
  /**
   * An API token to use instead of any context (with {@link endpoint}). `BENTO_CLOUD_API_KEY`
   * does the same from the environment, as in BentoML.
   * @default undefined (contexts, or `BENTO_CLOUD_API_KEY`)
   */
  apiToken?: string;
  /** API endpoint for {@link apiToken}. @default `https://cloud.bentoml.com` */
  endpoint?: string;
  /** Sent as `X-Bentoml-Version`, the version of the BentoML client BentoCloud believes it talks to. @default '1.4.38' */
  bentomlVersion?: string;
  /**
   * Bytes per multipart part; each part is held in memory while it uploads. Grown automatically
   * so an item never needs more than 10,000 parts. At least 5 MiB for real S3.
   * @default 33554432 (32 MiB)
   */
  partSize?: number;
  /** Parts uploaded at once; memory is about `partSize × (concurrency + 1)`. @default 4 */
  concurrency?: number;
  /**
   * Transient failures (network errors, timeouts, 408, 429, 5xx) retried after the first attempt,
   * with backoff: per multipart part, single presigned PUT and idempotent API call. A proxy upload
   * streams once and is not retried.
   * @default 3
   */
  retries?: number;
  /**
   * Milliseconds without progress (no answer, no byte in either direction) before an API call or
   * a transfer (presigned or proxy, upload or download) fails as transient. It bounds silence,
   * never a whole transfer, so a multi-GB upload on a slow link is fine; raise it for storage that
   * takes minutes to answer the end of a large PUT. (`transferTimeoutMs` of earlier releases is
   * this option now.)
   * @default 30000
   */
  timeoutMs?: number;
  /** Environment for `BENTO_CLOUD_API_KEY`, `BENTOML_CLOUD_CONTEXT`, `BENTOML_HOME` and the proxy variables. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** This plugin's own defaults; the network options take the kit's `NETWORK_DEFAULTS`. */
const DEFAULTS = { partSize: 32 * 1024 * 1024, concurrency: 4, bentomlVersion: '1.4.38' } as const;

/**
 * Options of earlier releases that another option replaces: refused, so a configuration that set
 * one fails loudly instead of losing its setting.
 */
const RENAMED_OPTIONS: Readonly<Record<string, string>> = {
  transferTimeoutMs: 'timeoutMs (milliseconds without progress, for API calls and transfers alike)',
};

/**
 * Push and pull bentos and models to and from BentoCloud (or a self-hosted Yatai) with the REST
 * flow `bentoml push`/`pull` use, reading the same `.yatai.yaml` contexts and
 * `BENTO_CLOUD_API_KEY`, so an account configured for BentoML works unchanged. Uploads are the
 * uncompressed tar BentoML sends, streamed from the store without a temporary file; multipart
 * parts are retried with backoff; `finish_upload` always closes an upload (success or the
 * failure's reason).
 *
 * The factory is synchronous and does no I/O: the context is read on first use.
 * @throws {BentoportError} ERR_INVALID_OPTION for an out-of-range numeric option.
 * @throws {TypeError} when `options` or one of them has the wrong type.
 * @example
 * ```ts
 * import { bentoCloudRegistry } from '@bentoport/registry-bentocloud';
 *
 * const registry = bentoCloudRegistry({ context: 'staging', timeoutMs: 30_000 });
 * // Give it to the engine (`registries: [registry]`), which pushes and pulls through it.
 * await registry.has({ kind: 'bento', name: 'iris_classifier', version: 'u432a5xip2dc6ax4' });
 * ```
 */
export function bentoCloudRegistry(options: BentoCloudRegistryOptions = {}): Registry {
  const session = cloudSession(options);
  return {
    apiVersion,
    name: COMPONENT,
    get url() {
      return session.url();
    },
    capabilities: { separateModels: true, dedup: false, resumableUploads: false, latestVersion: true, listItems: true },
    /** @throws {BentoportError} ERR_AUTH, ERR_IO, ERR_INVALID_OPTION for an unusable context. */
    has: async (ref, hasOptions = {}) => (await getItem(session, ref, hasOptions.signal))?.upload_status === 'success',
    /** @throws {BentoportError} ERR_AUTH, ERR_IO, ERR_ABORTED. */
    push: (item, pushOptions = {}) => pushItem(session, item, pushOptions),
    /** @throws {BentoportError} ERR_NOT_FOUND, ERR_CORRUPT_ARCHIVE, ERR_UNSUPPORTED_FORMAT, ERR_AUTH, ERR_IO, ERR_ABORTED. */
    pull: (ref, pullOptions = {}) => pullItem(session, ref, pullOptions),
    /** The newest complete version in BentoCloud's list order. @throws {BentoportError} ERR_NOT_FOUND, ERR_AUTH, ERR_IO. */
    latest: (kind, name, latestOptions = {}) => latestVersion(session, kind, name, latestOptions.signal),
    /**
     * One repository's items, or the organisation's (`GET /bentos`, `/models`), complete ones only.
     * @throws {BentoportError} ERR_AUTH, ERR_IO, ERR_ABORTED.
     */
    listItems: (kind, listOptions = {}) => listItems(session, kind, listOptions),
  };
}

/** Check the options and build what every operation shares. No I/O. */
function cloudSession(options: BentoCloudRegistryOptions): CloudSession {
  const check = optionChecks(COMPONENT);
  check.object(options);
  check.renamed(options, RENAMED_OPTIONS);
  const network = resolveNetworkOptions(COMPONENT, options);
  const sources = { env: network.env, home: options.home, context: options.context, endpoint: options.endpoint, apiToken: options.apiToken };
  return createCloudSession({
    sources,
    network,
    bentomlVersion: options.bentomlVersion ?? DEFAULTS.bentomlVersion,
    partSize: check.integer('partSize', options.partSize, DEFAULTS.partSize, 64 * 1024),
    concurrency: check.integer('concurrency', options.concurrency, DEFAULTS.concurrency, 1),
    format: tarFormat(),
    tarLength: tarByteLength,
  });
}

