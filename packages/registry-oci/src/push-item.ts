import { createHash } from 'node:crypto';
import type { RegistryOperationOptions, RegistryPushItem, RegistryPushResult } from '@bentoport/spec';
import { LAYER_FORMAT, buildManifest, itemAnnotations, itemConfig, itemLayer, layerDescriptor, type Descriptor } from './artifact-layout.js';
import { uploadBlob, uploadSmallBlob, type UploadContext } from './blob-upload.js';
import { fetchManifest, putManifest } from './manifests.js';
import type { OciContext } from './oci-context.js';
import { blobExists, mountBlob } from './remote-blobs.js';
import { itemRepository } from './repository-names.js';
import { removeStaleSessions } from './stale-sessions.js';
import { sourceIdentity } from './upload-state.js';

/** Changes whenever a layer's bytes for the same files would change: it salts the digest cache. */
const LAYER_ENCODING_VERSION = 'registry-oci/1 format-tar';

/** Bytes of one push: for progress events and the result. */
interface PushCounters {
  uploaded: number;
  skipped: number;
  done: number;
  total: number;
}

/**
 * Push one item: its layer, then (for a bento) one layer per model, each HEAD-checked, mounted or
 * uploaded in chunks; then the config blob, and the manifest last, so a half-pushed item is never
 * visible.
 * @throws {BentoportError} ERR_AUTH, ERR_IO, ERR_ABORTED.
 */
export async function pushItem(context: OciContext, item: RegistryPushItem, options: RegistryOperationOptions): Promise<RegistryPushResult> {
  const { kind, name, version } = item.ref;
  const repository = itemRepository(context.prefix, kind, name);
  // What killed earlier pushes left on the registry goes first.
  for (const written of repositoriesWritten(context, item)) await removeStaleSessions(context, written, options.onProgress);
  const counters: PushCounters = { uploaded: 0, skipped: 0, done: 0, total: item.contentBytes + item.models.reduce((sum, model) => sum + model.contentBytes, 0) };
  const layers: Descriptor[] = [await ensureItemLayer(context, repository, item, options, counters)];
  for (const model of item.models) layers.push(await ensureModelLayer(context, repository, model, options, counters));
  const configBody = Buffer.from(JSON.stringify(itemConfig(item.metadata)));
  const config = await uploadSmallBlob(uploadContext(context, repository, options, counters), configBody);
  counters.uploaded += configBody.length;
  const digest = await putManifest(context, repository, version, buildManifest(kind, config, layers, itemAnnotations(item.metadata)), options.signal);
  return { location: `${context.host}/${repository}:${version}`, digest, bytesUploaded: counters.uploaded, bytesSkipped: counters.skipped };
}

/**
 * Every repository a push of `item` writes to: its own, and for a bento each model's
 * (`models/<name>`), which the engine pushes first or skips when the registry has the model
 * already: a model push killed there would otherwise wait for the next push of that model.
 */
function repositoriesWritten(context: OciContext, item: RegistryPushItem): string[] {
  const own = itemRepository(context.prefix, item.ref.kind, item.ref.name);
  const models = item.models.map((model) => itemRepository(context.prefix, 'model', model.ref.name));
  return [...new Set([own, ...models])];
}

/** What every blob upload to `repository` shares: the client, the limits, the journal, the signal. */
export function baseUploadContext(context: OciContext, repository: string, options: RegistryOperationOptions): UploadContext {
  return {
    client: context.client,
    repository,
    chunkSize: context.chunkSize,
    retries: context.retries,
    retryDelayMs: context.retryDelayMs,
    state: context.state,
    host: context.host,
    journal: context.journal,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  };
}

/** The upload of one blob: its progress counts the furthest the registry got, so a restart adds nothing twice. */
function uploadContext(context: OciContext, repository: string, options: RegistryOperationOptions, counters: PushCounters): UploadContext {
  const onProgress = options.onProgress;
  let furthest = 0;
  return {
    ...baseUploadContext(context, repository, options),
    onBytes: (held) => {
      if (held <= furthest) return;
      counters.done += held - furthest;
      furthest = held;
      // Layers are compressed tar (headers, padding) and the total counts file contents: the
      // bar may reach its end a little early, never pass it.
      onProgress?.({ type: 'bytes', operation: 'push', bytesDone: Math.min(counters.done, counters.total), bytesTotal: counters.total });
    },
  };
}

/**
 * The layer of one item in `repository`: skipped when the digest cache knows its digest and the
 * registry has the blob, otherwise encoded from the store and uploaded with the digest computed
 * on the way (then cached).
 */
async function ensureItemLayer(context: OciContext, repository: string, item: RegistryPushItem, options: RegistryOperationOptions, counters: PushCounters): Promise<Descriptor> {
  const kind = item.ref.kind;
  const format = LAYER_FORMAT[kind];
  const tag = `${item.ref.name}:${item.ref.version}`;
  const identity = await sourceIdentity(item.directory, kind === 'bento' ? ['models'] : [], `${LAYER_ENCODING_VERSION} ${format}`);
  const cached = await context.state.getDigest(identity);
  if (cached && (await blobExists(context, repository, cached.digest, options.signal))) {
    counters.skipped += cached.size;
    return layerDescriptor(kind, cached, tag);
  }
  const signal = options.signal ? { signal: options.signal } : {};
  const uploaded = await uploadBlob(
    uploadContext(context, repository, options, counters),
    () => context.tar.encode(item.entries(), { format, compression: 'auto', ...signal }),
    createHash('sha256').update(`${identity}\0${context.host}/${repository}`).digest('hex'),
  );
  counters.uploaded += uploaded.bytesSent;
  await context.state.setDigest(identity, { digest: uploaded.digest, size: uploaded.size });
  return layerDescriptor(kind, uploaded, tag);
}

/**
 * A model layer of a bento: taken from the model's own manifest when the registry has it (no
 * local read at all), else built from the local model.
 */
async function ensureModelLayer(context: OciContext, bentoRepository: string, model: RegistryPushItem, options: RegistryOperationOptions, counters: PushCounters): Promise<Descriptor> {
  const remote = await remoteModelLayer(context, bentoRepository, model, options.signal);
  if (!remote) return ensureItemLayer(context, bentoRepository, model, options, counters);
  counters.skipped += remote.size;
  return remote;
}

/**
 * The descriptor of a model's layer from `models/<name>`, once its blob is in the bento's
 * repository (already there, or mounted); undefined when the model's manifest is absent or the
 * registry would not mount.
 */
async function remoteModelLayer(context: OciContext, bentoRepository: string, model: RegistryPushItem, signal: AbortSignal | undefined): Promise<Descriptor | undefined> {
  const tag = `${model.ref.name}:${model.ref.version}`;
  const modelRepository = itemRepository(context.prefix, 'model', model.ref.name);
  const remote = await fetchManifest(context, modelRepository, model.ref.version, signal);
  if (!remote) return undefined;
  const layer = itemLayer(remote.manifest, model.ref, `${context.display} model ${tag}`);
  const descriptor = layerDescriptor('model', layer, tag);
  if (await blobExists(context, bentoRepository, layer.digest, signal)) return descriptor;
  if (await mountBlob(context, bentoRepository, modelRepository, layer.digest, signal)) return descriptor;
  return undefined;
}
