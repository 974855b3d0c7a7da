import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import {
  BentoportError,
  isBentoportError,
  redact,
  type ArchiveEntry,
  type ProgressListener,
  type Registry,
  type RegistryOperationOptions,
  type RegistryPushItem,
  type RegistryPushResult,
} from '@bentoport/core';
import { tarFormat } from '@bentoport/format-tar';
import {
  LAYER_FORMAT,
  MANIFEST_MEDIA_TYPE,
  buildManifest,
  itemAnnotations,
  itemConfig,
  itemLayer,
  layerDescriptor,
  modelLayers,
  type Descriptor,
  type ImageManifest,
} from './artifact-layout.js';
import { uploadBlob, uploadSmallBlob, type UploadContext } from './blob-upload.js';
import { dockerConfigPath, dockerCredentials, type OciCredentials } from './docker-credentials.js';
import { createRegistryClient, type RegistryClient } from './registry-client.js';
import { checkRepositoryPrefix, itemRepository } from './repository-names.js';
import { localState, sourceIdentity, type BlobDigest } from './upload-state.js';

/** Options of {@link ociRegistry}. */
export interface OciRegistryOptions {
  /**
   * The registry and repository prefix: `oci://HOST[:PORT]/REPOSITORY`. Bentos go to
   * `REPOSITORY/<name>:<version>`, models to `REPOSITORY/models/<name>:<version>`. A
   * `user:password@` in the URL is used as credentials (prefer the options or docker's config).
   */
  url: string;
  /** User name for Basic auth or the token endpoint. @default from the URL, `BENTOPORT_OCI_USERNAME`, or docker's config */
  username?: string;
  /** Password or access token. @default from the URL, `BENTOPORT_OCI_PASSWORD`, or docker's config */
  password?: string;
  /**
   * Read credentials from docker's config (`auths`, `credHelpers`, `credsStore`; a helper is run
   * as `docker-credential-<name> get`), or from this config file. @default true (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`)
   */
  dockerConfig?: boolean | string;
  /** Talk plain HTTP to a registry that is not on a loopback address (loopback always uses HTTP, as Docker does). @default false */
  plainHttp?: boolean;
  /** Skip TLS certificate verification. @default false */
  insecure?: boolean;
  /** Bytes per upload `PATCH` (memory used per upload). @default 16 MiB */
  chunkSize?: number;
  /** Network failures tolerated per blob upload before the push fails (the next run resumes it). @default 3 */
  retries?: number;
  /**
   * Where the digest cache and unfinished uploads are kept, or `false` for nowhere.
   * @default `$XDG_CACHE_HOME/bentoport/registry-oci`, else `~/.cache/bentoport/registry-oci`
   */
  cacheDirectory?: string | false;
  /** Time allowed for response headers and between body bytes, ms. @default 300000 */
  timeoutMs?: number;
  /** Environment for proxies (`HTTPS_PROXY`, `NO_PROXY`), credentials and paths. @default process.env */
  env?: NodeJS.ProcessEnv;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[?::1\]?)$/i;
const DEFAULT_CHUNK = 16 * 1024 * 1024;
/** Changes whenever a layer's bytes for the same files would change: it salts the digest cache. */
const LAYER_ENCODING_VERSION = 'registry-oci/1 format-tar';

interface ParsedUrl {
  host: string;
  hostname: string;
  repository: string;
  credentials?: OciCredentials;
  display: string;
}

function parseRegistryUrl(url: string): ParsedUrl {
  const match = /^oci:\/\/(?:([^@/]*)@)?([^/]+)\/(.+?)\/*$/i.exec(url.trim());
  if (!match) {
    throw new BentoportError('ERR_INVALID_TARGET', `[registry-oci] '${redact(url)}' is not an OCI registry URL: use oci://HOST[:PORT]/REPOSITORY`);
  }
  const [, userinfo, host, repository] = match as unknown as [string, string | undefined, string, string];
  const hostname = host.replace(/:\d+$/, '');
  const display = `oci://${host}/${repository}`;
  checkRepositoryPrefix(repository, display);
  let credentials: OciCredentials | undefined;
  if (userinfo) {
    const colon = userinfo.indexOf(':');
    credentials =
      colon === -1
        ? { username: decodeURIComponent(userinfo), password: '' }
        : { username: decodeURIComponent(userinfo.slice(0, colon)), password: decodeURIComponent(userinfo.slice(colon + 1)) };
  }
  return { host: host.toLowerCase(), hostname, repository, display, ...(credentials ? { credentials } : {}) };
}

function defaultCacheDirectory(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(env.HOME ?? homedir(), '.cache');
  return path.join(base, 'bentoport', 'registry-oci');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Push and pull bentos and models to any OCI registry (CNCF distribution, Harbor, GHCR, ECR, GAR,
 * Quay) as OCI artifacts, speaking the OCI Distribution Spec over HTTP. Models are layers of
 * their own, as deterministic uncompressed tar, so an unchanged model is never sent twice and
 * every byte is verified on pull. See the package README for the artifact layout and naming.
 *
 * @throws {BentoportError} ERR_INVALID_TARGET for a URL that is not `oci://HOST/REPOSITORY` with a
 * valid repository path; ERR_INVALID_OPTION for a bad `chunkSize`, `retries` or `timeoutMs`.
 * @example
 * ```ts
 * import { createBentoport } from '@bentoport/core';
 * import { ociRegistry } from '@bentoport/registry-oci';
 *
 * const bentoport = createBentoport({ registries: [ociRegistry({ url: 'oci://ghcr.io/acme/bentos' })] });
 * await bentoport.push('iris_classifier:latest');
 * await bentoport.pull('iris_classifier:abc123');
 * ```
 */
export function ociRegistry(options: OciRegistryOptions): Registry {
  if (typeof options !== 'object' || options === null || typeof options.url !== 'string') {
    throw new TypeError('ociRegistry options must be an object with a url string');
  }
  const parsed = parseRegistryUrl(options.url);
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
  const retries = options.retries ?? 3;
  const timeoutMs = options.timeoutMs ?? 300_000;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
    throw new BentoportError('ERR_INVALID_OPTION', `[registry-oci] options: chunkSize must be a positive integer, got ${String(chunkSize)}`);
  }
  if (!Number.isInteger(retries) || retries < 0) throw new BentoportError('ERR_INVALID_OPTION', `[registry-oci] options: retries must be 0 or more, got ${String(retries)}`);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new BentoportError('ERR_INVALID_OPTION', `[registry-oci] options: timeoutMs must be positive, got ${String(timeoutMs)}`);
  const env = options.env ?? process.env;
  const cacheDirectory = options.cacheDirectory === false ? undefined : (options.cacheDirectory ?? defaultCacheDirectory(env));
  const state = localState(cacheDirectory);
  const tar = tarFormat({ concurrency: 2 });
  const prefix = parsed.repository;
  const display = parsed.display;

  async function credentials(): Promise<OciCredentials | undefined> {
    if (options.username !== undefined || options.password !== undefined) return { username: options.username ?? '', password: options.password ?? '' };
    if (parsed.credentials) return parsed.credentials;
    if (env.BENTOPORT_OCI_USERNAME !== undefined && env.BENTOPORT_OCI_PASSWORD !== undefined) {
      return { username: env.BENTOPORT_OCI_USERNAME, password: env.BENTOPORT_OCI_PASSWORD };
    }
    if (options.dockerConfig === false) return undefined;
    const file = typeof options.dockerConfig === 'string' ? options.dockerConfig : dockerConfigPath(env);
    return dockerCredentials(parsed.host, file);
  }

  let client: RegistryClient | undefined;
  const clientOf = (): RegistryClient =>
    (client ??= createRegistryClient({
      host: parsed.host,
      scheme: options.plainHttp || LOOPBACK.test(parsed.hostname) ? 'http' : 'https',
      insecure: options.insecure ?? false,
      env,
      credentials,
      timeoutMs,
      userAgent: 'bentoport-registry-oci',
    }));

  /** Model layers seen in bento manifests this instance pulled: a fallback when `models/<name>` is absent. */
  const modelLayersSeen = new Map<string, { repository: string; layer: Descriptor }>();

  const pullScope = (repository: string) => `repository:${repository}:pull`;
  const pushScope = (repository: string) => `repository:${repository}:pull,push`;

  async function fetchManifest(repository: string, reference: string, signal: AbortSignal | undefined): Promise<{ manifest: ImageManifest; digest: string } | undefined> {
    const manifestPath = `/v2/${repository}/manifests/${reference}`;
    const response = await clientOf().request('GET', manifestPath, { scope: pullScope(repository), signal, headers: { accept: MANIFEST_MEDIA_TYPE } });
    if (response.status === 404) {
      await response.body?.cancel().catch(() => undefined);
      return undefined;
    }
    if (response.status !== 200) throw await clientOf().failure(response, 'GET', `${display} ${repository}:${reference}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const announced = response.headers.get('docker-content-digest');
    if (announced && announced !== digest) {
      throw new BentoportError('ERR_CORRUPT_ARCHIVE', `[registry-oci] ${parsed.host}/${repository}:${reference}: the manifest's digest is ${digest}, the registry announced ${announced}; nothing was stored`);
    }
    try {
      return { manifest: JSON.parse(bytes.toString('utf8')) as ImageManifest, digest };
    } catch (error) {
      throw new BentoportError('ERR_CORRUPT_ARCHIVE', `[registry-oci] ${parsed.host}/${repository}:${reference}: the manifest is not JSON`, { cause: error });
    }
  }

  async function blobExists(repository: string, digest: string, signal: AbortSignal | undefined): Promise<boolean> {
    const response = await clientOf().request('HEAD', `/v2/${repository}/blobs/${digest}`, { scope: pushScope(repository), signal });
    await response.body?.cancel().catch(() => undefined);
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw await clientOf().failure(response, 'HEAD', `${display} ${repository} blob ${digest}`);
  }

  /** Mount a blob from a sibling repository. True when the registry mounted it (201). */
  async function mountBlob(repository: string, from: string, digest: string, signal: AbortSignal | undefined): Promise<boolean> {
    const mountPath = `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
    const response = await clientOf().request('POST', mountPath, {
      scope: `${pushScope(repository)} ${pullScope(from)}`,
      signal,
      headers: { 'content-length': '0' },
    });
    await response.body?.cancel().catch(() => undefined);
    if (response.status === 201) return true;
    if (response.status === 202) {
      // The registry opened an ordinary upload instead: cancel it.
      const location = response.headers.get('location');
      if (location) {
        await clientOf()
          .request('DELETE', new URL(location, clientOf().baseUrl).href, { scope: pushScope(repository) })
          .then((answer) => answer.body?.cancel())
          .catch(() => undefined);
      }
      return false;
    }
    if (response.status === 401 || response.status === 403) throw await clientOf().failure(response, 'POST', `${display} ${repository} mount`);
    return false;
  }

  interface PushCounters {
    uploaded: number;
    skipped: number;
    done: number;
    total: number;
  }

  function uploadContext(repository: string, operationOptions: RegistryOperationOptions, counters: PushCounters): UploadContext {
    const onProgress = operationOptions.onProgress;
    return {
      client: clientOf(),
      repository,
      chunkSize,
      retries,
      state,
      ...(operationOptions.signal ? { signal: operationOptions.signal } : {}),
      ...(onProgress ? { onProgress } : {}),
      onBytes: (bytes) => {
        counters.done += bytes;
        onProgress?.({ type: 'bytes', operation: 'push', bytesDone: counters.done, bytesTotal: counters.total });
      },
    };
  }

  /**
   * The layer of one item in `repository`: skipped when the digest cache knows its digest and the
   * registry has the blob, otherwise encoded from the store and uploaded with the digest computed
   * on the way (then cached).
   */
  async function ensureItemLayer(
    repository: string,
    item: RegistryPushItem,
    operationOptions: RegistryOperationOptions,
    counters: PushCounters,
  ): Promise<Descriptor> {
    const kind = item.ref.kind;
    const format = LAYER_FORMAT[kind];
    const tag = `${item.ref.name}:${item.ref.version}`;
    const exclude = kind === 'bento' ? ['models'] : [];
    const identity = await sourceIdentity(item.directory, exclude, `${LAYER_ENCODING_VERSION} ${format}`);
    const cached = await state.getDigest(identity);
    if (cached && (await blobExists(repository, cached.digest, operationOptions.signal))) {
      counters.skipped += cached.size;
      return layerDescriptor(kind, cached, tag);
    }
    const uploaded = await uploadBlob(
      uploadContext(repository, operationOptions, counters),
      () => tar.encode(item.entries(), { format, compression: 'auto', ...(operationOptions.signal ? { signal: operationOptions.signal } : {}) }),
      sha256(`${identity}\0${parsed.host}/${repository}`),
    );
    counters.uploaded += uploaded.bytesSent;
    await state.setDigest(identity, { digest: uploaded.digest, size: uploaded.size });
    return layerDescriptor(kind, uploaded, tag);
  }

  /**
   * A model layer of a bento: the descriptor comes from the model's own manifest when the
   * registry has it (no local read at all), and the blob is mounted from `models/<name>` into
   * the bento's repository; otherwise it is built from the local model.
   */
  async function ensureModelLayer(
    bentoRepository: string,
    model: RegistryPushItem,
    operationOptions: RegistryOperationOptions,
    counters: PushCounters,
  ): Promise<Descriptor> {
    const signal = operationOptions.signal;
    const modelRepository = itemRepository(prefix, 'model', model.ref.name);
    const remote = await fetchManifest(modelRepository, model.ref.version, signal);
    if (remote) {
      const layer = itemLayer(remote.manifest, model.ref, `${display} model ${model.ref.name}:${model.ref.version}`);
      const descriptor = layerDescriptor('model', layer, `${model.ref.name}:${model.ref.version}`);
      if (await blobExists(bentoRepository, layer.digest, signal)) {
        counters.skipped += layer.size;
        return descriptor;
      }
      if (await mountBlob(bentoRepository, modelRepository, layer.digest, signal)) {
        counters.skipped += layer.size;
        return descriptor;
      }
    }
    return ensureItemLayer(bentoRepository, model, operationOptions, counters);
  }

  async function putManifest(repository: string, reference: string, manifest: ImageManifest, signal: AbortSignal | undefined): Promise<string> {
    const body = Buffer.from(JSON.stringify(manifest));
    const response = await clientOf().request('PUT', `/v2/${repository}/manifests/${reference}`, {
      scope: pushScope(repository),
      signal,
      body,
      headers: { 'content-type': MANIFEST_MEDIA_TYPE, 'content-length': String(body.length) },
    });
    if (response.status !== 201) throw await clientOf().failure(response, 'PUT', `${display} ${repository}:${reference} manifest`);
    await response.body?.cancel().catch(() => undefined);
    return `sha256:${createHash('sha256').update(body).digest('hex')}`;
  }

  /** Entries of one layer, streamed through SHA-256 and size verification. */
  async function* layerEntries(
    repository: string,
    layer: Descriptor,
    format: string,
    signal: AbortSignal | undefined,
    onProgress: ProgressListener | undefined,
  ): AsyncGenerator<ArchiveEntry> {
    const what = `${parsed.host}/${repository}@${layer.digest}`;
    const response = await clientOf().request('GET', `/v2/${repository}/blobs/${layer.digest}`, { scope: pullScope(repository), signal });
    if (response.status !== 200 || !response.body) throw await clientOf().failure(response, 'GET', `${display} ${repository} blob ${layer.digest}`);
    const hash = createHash('sha256');
    let received = 0;
    let verified = false;
    const corrupt = (problem: string) => new BentoportError('ERR_CORRUPT_ARCHIVE', `[registry-oci] ${what}: ${problem}; nothing was stored`, { details: { digest: layer.digest } });
    const verifier = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        if (received > layer.size) return callback(corrupt(`more than the ${layer.size} bytes the manifest announces`));
        hash.update(chunk);
        onProgress?.({ type: 'bytes', operation: 'pull', bytesDone: received, bytesTotal: layer.size });
        callback(null, chunk);
      },
      flush(callback) {
        if (received !== layer.size) return callback(corrupt(`${received} bytes instead of ${layer.size}`));
        const digest = `sha256:${hash.digest('hex')}`;
        if (digest !== layer.digest) return callback(corrupt(`SHA-256 mismatch (got ${digest})`));
        verified = true;
        callback();
      },
    });
    const body = Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
    body.on('error', (error) => verifier.destroy(error));
    body.pipe(verifier);
    try {
      for await (const entry of tar.decode({ stream: () => verifier, size: layer.size }, { format, ...(signal ? { signal } : {}) })) yield entry;
    } catch (error) {
      // A damaged layer may fail the tar parser before the digest check does: report the digest.
      if (!verified && isBentoportError(error, 'ERR_CORRUPT_ARCHIVE') && !String(error.message).includes(what)) {
        throw corrupt(`the layer does not verify (${error.message})`);
      }
      throw error;
    } finally {
      body.destroy();
    }
    if (!verified) throw corrupt('the layer ended before it could be verified');
  }

  const registry: Registry = {
    apiVersion: 1,
    name: 'registry-oci',
    url: display,
    capabilities: { separateModels: true, dedup: true, resumableUploads: true },

    /** @throws {BentoportError} ERR_AUTH, ERR_IO. */
    async has(ref, operationOptions = {}) {
      const repository = itemRepository(prefix, ref.kind, ref.name);
      const response = await clientOf().request('HEAD', `/v2/${repository}/manifests/${ref.version}`, {
        scope: pullScope(repository),
        signal: operationOptions.signal,
        headers: { accept: MANIFEST_MEDIA_TYPE },
      });
      await response.body?.cancel().catch(() => undefined);
      if (response.status === 200) return true;
      if (response.status === 404) return false;
      throw await clientOf().failure(response, 'HEAD', `${display} ${repository}:${ref.version}`);
    },

    /**
     * Blobs first (each HEAD-checked, mounted or uploaded in chunks), the manifest last, so a
     * half-pushed item is never visible.
     * @throws {BentoportError} ERR_AUTH, ERR_IO, ERR_ABORTED.
     */
    async push(item, pushOptions = {}): Promise<RegistryPushResult> {
      const { kind, name, version } = item.ref;
      const repository = itemRepository(prefix, kind, name);
      const counters: PushCounters = { uploaded: 0, skipped: 0, done: 0, total: item.contentBytes + item.models.reduce((sum, model) => sum + model.contentBytes, 0) };
      const layers: Descriptor[] = [await ensureItemLayer(repository, item, pushOptions, counters)];
      for (const model of item.models) layers.push(await ensureModelLayer(repository, model, pushOptions, counters));
      const configBody = Buffer.from(JSON.stringify(itemConfig(item.metadata)));
      const config: BlobDigest = await uploadSmallBlob(uploadContext(repository, pushOptions, counters), configBody);
      counters.uploaded += configBody.length;
      const manifest = buildManifest(kind, config, layers, itemAnnotations(item.metadata));
      const digest = await putManifest(repository, version, manifest, pushOptions.signal);
      return { location: `${parsed.host}/${repository}:${version}`, digest, bytesUploaded: counters.uploaded, bytesSkipped: counters.skipped };
    },

    /**
     * @throws {BentoportError} ERR_NOT_FOUND, ERR_CORRUPT_ARCHIVE (digest or size mismatch: thrown
     * before the iteration ends), ERR_AUTH, ERR_IO, ERR_ABORTED.
     */
    pull(ref, operationOptions = {}) {
      const signal = operationOptions.signal;
      return (async function* () {
        const tag = `${ref.name}:${ref.version}`;
        let repository = itemRepository(prefix, ref.kind, ref.name);
        const fetched = await fetchManifest(repository, ref.version, signal);
        let layer: Descriptor;
        if (fetched) {
          layer = itemLayer(fetched.manifest, ref, `${parsed.host}/${repository}:${ref.version}`);
          if (ref.kind === 'bento') {
            for (const [modelTag, modelLayer] of modelLayers(fetched.manifest)) modelLayersSeen.set(modelTag, { repository, layer: modelLayer });
          }
        } else {
          const seen = ref.kind === 'model' ? modelLayersSeen.get(tag) : undefined;
          if (!seen) {
            throw new BentoportError(
              'ERR_NOT_FOUND',
              `[registry-oci] ${ref.kind === 'bento' ? 'Bento' : 'Model'} "${tag}" not found on remote registry ${display} (${parsed.host}/${repository}:${ref.version})`,
            );
          }
          repository = seen.repository;
          layer = seen.layer;
        }
        yield* layerEntries(repository, layer, ref.kind === 'bento' ? LAYER_FORMAT.bento : LAYER_FORMAT.model, signal, operationOptions.onProgress);
      })();
    },

    /** Versions of `name` (the repository's tags). @throws {BentoportError} ERR_NOT_FOUND, ERR_AUTH, ERR_IO. */
    async list(kind, name, operationOptions = {}) {
      const repository = itemRepository(prefix, kind, name);
      const versions: string[] = [];
      let next: string | undefined = `/v2/${repository}/tags/list?n=1000`;
      for (let page = 0; next !== undefined && page < 1000; page++) {
        const response = await clientOf().request('GET', next, { scope: pullScope(repository), signal: operationOptions.signal });
        if (response.status !== 200) throw await clientOf().failure(response, 'GET', `${display} ${repository} tags`);
        const body = (await response.json()) as { tags?: string[] | null };
        versions.push(...(body.tags ?? []));
        const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(response.headers.get('link') ?? '');
        next = link ? (link[1] as string) : undefined;
      }
      if (versions.length === 0) throw new BentoportError('ERR_NOT_FOUND', `[registry-oci] no versions of ${kind} '${name}' in ${display}`);
      return versions;
    },
  };
  return registry;
}

