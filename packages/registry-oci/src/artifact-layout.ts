import { createHash } from 'node:crypto';
import { BentoportError, type ItemMetadata, type RegistryItemRef } from '@bentoport/spec';
import type { BlobDigest } from './upload-state.js';

/** OCI image manifest media type (the only manifest this plugin writes and reads). */
export const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';

/** `artifactType` of each kind of item. */
export const ARTIFACT_TYPE = {
  bento: 'application/vnd.bentoport.bento.v1',
  model: 'application/vnd.bentoport.model.v1',
} as const;

/** Media type of the config blob of each kind (JSON, see {@link ItemConfig}). */
export const CONFIG_MEDIA_TYPE = {
  bento: 'application/vnd.bentoport.bento.config.v1+json',
  model: 'application/vnd.bentoport.model.config.v1+json',
} as const;

/**
 * Layer media types. A bento's own files go gzipped (source text compresses; its digest never needs
 * to match across machines); a model goes as deterministic uncompressed tar, so the same model
 * always has the same digest, whatever zlib a machine has.
 */
export const LAYER_MEDIA_TYPE = {
  bento: 'application/vnd.bentoport.bento.layer.v1.tar+gzip',
  model: 'application/vnd.bentoport.model.layer.v1.tar',
} as const;

/** Layer encodings, as format-tar names them. */
export const LAYER_FORMAT = { bento: 'gz', model: 'tar' } as const;

export const ANNOTATION = {
  created: 'org.opencontainers.image.created',
  title: 'org.opencontainers.image.title',
  version: 'org.opencontainers.image.version',
  kind: 'ml.bentoml.kind',
  name: 'ml.bentoml.name',
  tag: 'ml.bentoml.tag',
} as const;

export interface Descriptor extends BlobDigest {
  mediaType: string;
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** The config blob: what a registry UI or another client can read without fetching a layer. */
export interface ItemConfig {
  kind: 'bento' | 'model';
  name: string;
  version: string;
  /** ISO-8601, UTC. */
  creationTime: string;
  /** `name:version` of each bentoml model the bento references (empty for a model). */
  models: string[];
  /** The item's yaml document as JSON. */
  metadata: Record<string, unknown>;
}

/** ISO-8601 UTC of a creation time in microseconds since the epoch, keeping the microseconds. */
export function isoTime(micros: number): string {
  const millis = Math.floor(micros / 1000);
  const base = new Date(millis).toISOString().replace(/\.\d{3}Z$/, '');
  return `${base}.${String(Math.round(micros - Math.floor(micros / 1_000_000) * 1_000_000)).padStart(6, '0')}Z`;
}

export function itemConfig(metadata: ItemMetadata): ItemConfig {
  return {
    kind: metadata.kind,
    name: metadata.tag.name,
    version: metadata.tag.version,
    creationTime: isoTime(metadata.creationTime),
    models: metadata.models.filter((model) => model.registry === 'bentoml').map((model) => `${model.tag.name}:${model.tag.version}`),
    metadata: JSON.parse(JSON.stringify(metadata.document)) as Record<string, unknown>,
  };
}

export function itemAnnotations(metadata: ItemMetadata): Record<string, string> {
  return {
    [ANNOTATION.created]: isoTime(metadata.creationTime),
    [ANNOTATION.title]: `${metadata.tag.name}:${metadata.tag.version}`,
    [ANNOTATION.version]: metadata.tag.version,
    [ANNOTATION.kind]: metadata.kind,
    [ANNOTATION.name]: metadata.tag.name,
  };
}

/** A layer descriptor; model layers carry the model's tag so a pull can tell which is which. */
export function layerDescriptor(kind: 'bento' | 'model', blob: BlobDigest, tag: string): Descriptor {
  return {
    mediaType: LAYER_MEDIA_TYPE[kind],
    digest: blob.digest,
    size: blob.size,
    annotations: { [ANNOTATION.kind]: kind, [ANNOTATION.tag]: tag, [ANNOTATION.title]: `${tag.replace(':', '-')}.${kind === 'bento' ? 'tar.gz' : 'tar'}` },
  };
}

export function buildManifest(kind: 'bento' | 'model', config: BlobDigest, layers: Descriptor[], annotations: Record<string, string>): ImageManifest {
  return {
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    artifactType: ARTIFACT_TYPE[kind],
    config: { mediaType: CONFIG_MEDIA_TYPE[kind], digest: config.digest, size: config.size },
    layers,
    annotations,
  };
}

/** The content digest of bytes, as descriptors and `?digest=` name it: `sha256:<hex>`. */
export function contentDigest(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** Check a fetched manifest is one of ours for `ref`, and return the layer holding the item itself. */
export function itemLayer(manifest: ImageManifest, ref: RegistryItemRef, display: string): Descriptor {
  const corrupt = (problem: string) => new BentoportError('ERR_CORRUPT_ARCHIVE', `[registry-oci] ${display}: ${problem}; nothing was stored`);
  if (manifest.schemaVersion !== 2 || !Array.isArray(manifest.layers)) throw corrupt('not an OCI image manifest');
  if (manifest.artifactType !== undefined && manifest.artifactType !== ARTIFACT_TYPE[ref.kind]) {
    throw new BentoportError('ERR_NOT_FOUND', `[registry-oci] ${display} is not a bentoport ${ref.kind} (artifactType ${manifest.artifactType})`);
  }
  const layer = manifest.layers.find((candidate) => candidate.mediaType === LAYER_MEDIA_TYPE[ref.kind] && candidate.annotations?.[ANNOTATION.kind] === ref.kind);
  if (!layer) throw corrupt(`no ${ref.kind} layer in the manifest`);
  if (!DIGEST_PATTERN.test(layer.digest) || !Number.isSafeInteger(layer.size) || layer.size < 0) throw corrupt('a layer descriptor is malformed');
  return layer;
}

/** The model layers a bento manifest references, by model tag. */
export function modelLayers(manifest: ImageManifest): Map<string, Descriptor> {
  const layers = new Map<string, Descriptor>();
  for (const layer of manifest.layers ?? []) {
    const tag = layer.annotations?.[ANNOTATION.tag];
    if (layer.mediaType === LAYER_MEDIA_TYPE.model && tag && DIGEST_PATTERN.test(layer.digest)) layers.set(tag, layer);
  }
  return layers;
}
