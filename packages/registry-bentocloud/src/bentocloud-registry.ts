import type { Readable } from 'node:stream';
import { BentoportError, isBentoportError, type ArchiveEntry, type ProgressEvent, type Registry, type RegistryItemRef, type RegistryOperationOptions, type RegistryPushItem, type RegistryPushOptions, type RegistryPushResult } from '@bentoport/core';
import { tarByteLength, tarFormat } from '@bentoport/format-tar';
import { CloudApi, type CloudItem, type ItemKind } from './cloud-api.js';
import { resolveCloudContext, type CloudContext } from './cloud-context.js';
import { COMPONENT, networkError } from './cloud-errors.js';
import { createSchema } from './cloud-schemas.js';
import { sniffedStream, verifiedLength } from './downloads.js';
import { Dispatchers } from './http-dispatchers.js';
import { multipartUpload, proxyUpload, singlePresignedUpload, withRetries, type RetryPolicy, type UploadTarget } from './uploads.js';

/** Options of {@link bentoCloudRegistry}. All are optional: by default it uses BentoML's own configuration. */
export interface BentoCloudRegistryOptions {
  /**
   * The context of `$BENTOML_HOME/.yatai.yaml` to use (BentoML's `--context`).
   * @default `BENTOML_CLOUD_CONTEXT`, else the file's `current_context_name`, else `default`
   */
  context?: string;
  /** BentoML home whose `.yatai.yaml` holds the contexts. @default `$BENTOML_HOME`, else `~/bentoml` */
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
  /** Attempts for each part, single PUT or idempotent API call, on network errors and 5xx, with exponential backoff. @default 5 */
  attempts?: number;
  /** First backoff delay in milliseconds (then doubled, with jitter, up to 20 s). @default 500 */
  retryDelayMs?: number;
  /** Longest wait, in milliseconds, for a connection or for an API answer. @default 60000 (BentoML's 60 s) */
  requestTimeoutMs?: number;
  /**
   * Longest wait, in milliseconds, for any single read or for the answer after an upload body,
   * during byte transfers (presigned and proxy). Never a limit on the whole transfer (BentoML's
   * 5 s per read on presigned downloads fails on slow links).
   * @default 600000 (10 min)
   */
  transferTimeoutMs?: number;
  /** Environment for `BENTO_CLOUD_API_KEY`, `BENTOML_CLOUD_CONTEXT`, `BENTOML_HOME` and the proxy variables. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** A progress event without its `operation`, which the emitter adds. */
type EventBody = ProgressEvent extends infer Event ? (Event extends ProgressEvent ? Omit<Event, 'operation'> : never) : never;

const TYPE_NAME: Record<ItemKind, string> = { bento: 'Bento', model: 'Model' };
const STORE_NAME: Record<ItemKind, string> = { bento: 'Bento store', model: 'model store' };

function positiveInteger(value: number | undefined, name: string, fallback: number, minimum = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new BentoportError('ERR_INVALID_OPTION', `[${COMPONENT}] options: ${name} must be an integer of at least ${minimum}, got ${String(value)}`);
  }
  return value;
}

/**
 * Push and pull bentos and models to and from BentoCloud (or a self-hosted Yatai) with the REST
 * flow `bentoml push`/`pull` use (spec §5), reading the same `.yatai.yaml` contexts and
 * `BENTO_CLOUD_API_KEY`, so an account configured for BentoML works unchanged. Uploads are the
 * uncompressed tar BentoML sends, streamed from the store without a temporary file; multipart
 * parts are retried with backoff; `finish_upload` always closes an upload (success or the
 * failure's reason).
 *
 * The factory is synchronous and does no I/O: the context is read on first use.
 * @throws {BentoportError} ERR_INVALID_OPTION for an out-of-range numeric option.
 * @example
 * ```ts
 * import { createBentoport } from '@bentoport/core';
 * import { bentoCloudRegistry } from '@bentoport/registry-bentocloud';
 *
 * const bentoport = createBentoport({ registries: [bentoCloudRegistry({ context: 'staging' })] });
 * await bentoport.push('iris_classifier:latest');
 * await bentoport.pull('iris_classifier:u432a5xip2dc6ax4');
 * ```
 */
export function bentoCloudRegistry(options: BentoCloudRegistryOptions = {}): Registry {
  if (typeof options !== 'object' || options === null) throw new TypeError('bentoCloudRegistry options must be an object');
  const env = options.env ?? process.env;
  const partSize = positiveInteger(options.partSize, 'partSize', 32 * 1024 * 1024, 64 * 1024);
  const concurrency = positiveInteger(options.concurrency, 'concurrency', 4);
  const retry: RetryPolicy = {
    attempts: positiveInteger(options.attempts, 'attempts', 5),
    baseDelayMs: positiveInteger(options.retryDelayMs, 'retryDelayMs', 500, 0),
    maxDelayMs: 20_000,
  };
  const requestTimeoutMs = positiveInteger(options.requestTimeoutMs, 'requestTimeoutMs', 60_000);
  const transferTimeoutMs = positiveInteger(options.transferTimeoutMs, 'transferTimeoutMs', 600_000);
  const bentomlVersion = options.bentomlVersion ?? '1.4.38';
  const format = tarFormat();

  let context: CloudContext | undefined;
  let api: CloudApi | undefined;
  const client = (): CloudApi => {
    if (api) return api;
    context = resolveCloudContext({ ...options, env });
    api = new CloudApi(
      context,
      new Dispatchers(env),
      bentomlVersion,
      { connect: requestTimeoutMs, idle: requestTimeoutMs },
      { connect: requestTimeoutMs, idle: transferTimeoutMs },
    );
    return api;
  };

  /** Only one repository creation at a time per name (BentoML PR #5095). */
  const repositoryLocks = new Map<string, Promise<void>>();
  async function ensureRepository(kind: ItemKind, name: string, signal: AbortSignal | undefined): Promise<void> {
    const key = `${kind}/${name}`;
    const previous = repositoryLocks.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(async () => {
      const path = CloudApi.repositoryPath(kind, name);
      const existing = await withRetries(retry, signal, () => client().call('GET', path, undefined, { signal, optional: true }));
      if (existing !== undefined) return;
      await client().call('POST', `/${kind}_repositories`, { name, description: '' }, { signal });
    });
    repositoryLocks.set(key, current);
    await current;
  }

  async function getItem(ref: RegistryItemRef, signal: AbortSignal | undefined): Promise<CloudItem | undefined> {
    return withRetries(retry, signal, () =>
      client().call<CloudItem>('GET', CloudApi.itemPath(ref.kind, ref.name, ref.version), undefined, { signal, optional: true }),
    );
  }

  async function push(item: RegistryPushItem, pushOptions: RegistryPushOptions = {}): Promise<RegistryPushResult> {
    const { ref } = item;
    const { signal, force = false } = pushOptions;
    const tag = `${ref.name}:${ref.version}`;
    const what = `${ref.kind} "${tag}"`;
    const emit = (event: EventBody) => pushOptions.onProgress?.({ ...event, operation: 'push' } as ProgressEvent);
    const onWarning = (message: string) => emit({ type: 'warning', message });
    const itemPath = CloudApi.itemPath(ref.kind, ref.name, ref.version);

    await ensureRepository(ref.kind, ref.name, signal);
    const remote = await getItem(ref, signal);
    if (remote && remote.upload_status === 'success' && !force) {
      emit({
        type: 'notice',
        message: ref.kind === 'bento' ? `Push skipped: Bento "${tag}" already exists in remote Bento store` : `Model "${tag}" already exists in remote model store, skipping`,
      });
      return { location: location(ref), bytesUploaded: 0 };
    }
    const schema = await createSchema(item, onWarning);
    let answer: CloudItem | undefined;
    if (!remote) {
      answer = await client().call<CloudItem>('POST', `${CloudApi.repositoryPath(ref.kind, ref.name)}/${ref.kind}s`, schema, { signal });
    } else if (ref.kind === 'bento') {
      answer = await client().call<CloudItem>('PATCH', itemPath, { description: schema.description, manifest: schema.manifest, labels: schema.labels }, { signal });
    } else {
      answer = remote; // BentoML does not update an existing model (spec §5.4), it uploads again
    }

    let strategy: 'proxy' | 'single' | 'multipart';
    let presignedUrl = '';
    if (answer?.transmission_strategy === 'proxy') strategy = 'proxy';
    else if (answer?.transmission_strategy === 'presigned_url') strategy = 'multipart';
    else {
      const presigned = await withRetries(retry, signal, () => client().call<CloudItem>('PATCH', `${itemPath}/presign_upload_url`, undefined, { signal }));
      presignedUrl = presigned?.presigned_upload_url ?? '';
      strategy = presignedUrl ? 'single' : 'proxy';
    }

    const length = await tarByteLength(item.entries());
    const openBody = (): Readable => format.encode(item.entries(), { format: 'tar', ...(signal ? { signal } : {}) });
    await client().call('PATCH', `${itemPath}/start_upload`, undefined, { signal });
    emit({ type: 'bytes', bytesDone: 0, bytesTotal: length });
    const target: UploadTarget = {
      api: client(),
      kind: ref.kind,
      name: ref.name,
      version: ref.version,
      what,
      signal,
      retry,
      onBytes: (bytesDone) => emit({ type: 'bytes', bytesDone, bytesTotal: length }),
    };
    try {
      if (strategy === 'proxy') await proxyUpload(target, openBody(), length);
      else if (strategy === 'single') await singlePresignedUpload(target, presignedUrl, openBody, length);
      else await multipartUpload(target, openBody(), length, { partSize, concurrency });
    } catch (error) {
      const reason = signal?.aborted ? 'aborted by the client' : error instanceof Error ? error.message : String(error);
      // Tell BentoCloud, even when aborted: an upload left "uploading" blocks the version.
      await finishUpload(itemPath, 'failed', reason).catch((finishError: unknown) => {
        onWarning(`could not mark the failed upload of ${what} as failed: ${(finishError as Error).message}`);
      });
      if (signal?.aborted) throw networkError('push', what, error, context?.apiToken ?? '', signal);
      if (isBentoportError(error)) throw error;
      throw networkError('push', what, error, context?.apiToken ?? '');
    }
    // Also after a proxy upload, which BentoML leaves "uploading" (spec §8 f).
    await finishUpload(itemPath, 'success', '', signal);
    return { location: location(ref), bytesUploaded: length };
  }

  async function finishUpload(itemPath: string, status: 'success' | 'failed', reason: string, signal?: AbortSignal): Promise<void> {
    await client().call('PATCH', `${itemPath}/finish_upload`, { status, reason }, { signal });
  }

  function location(ref: RegistryItemRef): string {
    return `${registryUrl()}/${ref.kind}s/${ref.name}:${ref.version}`;
  }

  async function* pull(ref: RegistryItemRef, pullOptions: RegistryOperationOptions = {}): AsyncGenerator<ArchiveEntry> {
    const { signal } = pullOptions;
    const tag = `${ref.name}:${ref.version}`;
    const what = `${ref.kind} "${tag}"`;
    const emit = (event: EventBody) => pullOptions.onProgress?.({ ...event, operation: 'pull' } as ProgressEvent);
    const remote = await getItem(ref, signal);
    if (!remote) throw new BentoportError('ERR_NOT_FOUND', `${TYPE_NAME[ref.kind]} "${tag}" not found on remote ${STORE_NAME[ref.kind]}`);
    if (remote.upload_status !== 'success') {
      throw new BentoportError('ERR_NOT_FOUND', `${TYPE_NAME[ref.kind]} "${tag}" has no complete upload on remote ${STORE_NAME[ref.kind]} (upload status: ${remote.upload_status})`);
    }
    const itemPath = CloudApi.itemPath(ref.kind, ref.name, ref.version);
    let download;
    if (remote.transmission_strategy === 'proxy') {
      download = await client().proxyDownload(ref.kind, ref.name, ref.version, { signal });
    } else {
      const presigned = await withRetries(retry, signal, () => client().call<CloudItem>('PATCH', `${itemPath}/presign_download_url`, undefined, { signal }));
      const url = presigned?.presigned_download_url;
      download = url
        ? await withRetries(retry, signal, () => client().presignedDownload(url, what, { signal }))
        : await client().proxyDownload(ref.kind, ref.name, ref.version, { signal });
    }
    const total = download.length;
    const body = verifiedLength(download.body, total, what, (bytesDone) => emit({ type: 'bytes', bytesDone, ...(total === undefined ? {} : { bytesTotal: total }) }));
    const { format: token, stream } = await sniffedStream(body, what);
    try {
      yield* format.decode({ stream: () => stream, ...(total === undefined ? {} : { size: total }) }, { format: token, ...(signal ? { signal } : {}) });
    } finally {
      stream.destroy();
      body.destroy();
    }
  }

  let cachedUrl: string | undefined;
  function registryUrl(): string {
    if (cachedUrl !== undefined) return cachedUrl;
    try {
      cachedUrl = `bentocloud://${(context ?? resolveCloudContext({ ...options, env })).name}`;
    } catch {
      cachedUrl = `bentocloud://${options.context || env.BENTOML_CLOUD_CONTEXT || 'default'}`;
    }
    return cachedUrl;
  }

  return {
    apiVersion: 1,
    name: COMPONENT,
    get url() {
      return registryUrl();
    },
    capabilities: { separateModels: true, dedup: false, resumableUploads: false },
    async has(ref, hasOptions = {}) {
      const remote = await getItem(ref, hasOptions.signal);
      return remote !== undefined && remote.upload_status === 'success';
    },
    push,
    pull,
  };
}

