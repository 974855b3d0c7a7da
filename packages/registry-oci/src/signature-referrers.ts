import { BentoportError, type RegistryItemRef, type RegistryOperationOptions } from '@bentoport/spec';
import { ANNOTATION, MANIFEST_MEDIA_TYPE, contentDigest, type Descriptor, type ImageManifest } from './artifact-layout.js';
import { uploadSmallBlob } from './blob-upload.js';
import { baseUploadContext } from './push-item.js';
import { fetchManifest } from './manifests.js';
import type { OciContext } from './oci-context.js';
import { discardBody, pullScope, pushScope } from './registry-client.js';
import { itemRepository } from './repository-names.js';

/**
 * An item's signature as an OCI 1.1 referrer: an artifact manifest whose `subject` is the item's
 * manifest, holding the signature file as its one layer. Registries with the referrers API list
 * it under `GET /v2/<repository>/referrers/<digest>`; for those without it (CNCF distribution 2.8)
 * the referrers tag schema applies: an image index tagged `sha256-<hex of the subject digest>`
 * lists the referrers, and the pusher keeps it up to date.
 */

/** `artifactType` of a signature referrer. */
export const SIGNATURE_ARTIFACT_TYPE = 'application/vnd.bentoport.signature.v1';
/** Media type of the signature layer: the signature file (signature, then the manifest it signed). */
const SIGNATURE_LAYER_MEDIA_TYPE = 'application/vnd.bentoport.signature.v1+text';
const INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
/** OCI 1.1's empty descriptor: the config of an artifact that needs none. */
const EMPTY_CONFIG = Buffer.from('{}');
const EMPTY_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';
/** A signature file is a few KiB of signature plus one manifest line per file. */
const SIGNATURE_MAX_BYTES = 64 * 1024 * 1024;

interface ImageIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: (Descriptor & { artifactType?: string })[];
}

/** The item's manifest as a referrer's `subject`. @throws {BentoportError} ERR_NOT_FOUND when the registry does not hold the item. */
async function subjectOf(context: OciContext, repository: string, ref: RegistryItemRef, signal: AbortSignal | undefined): Promise<Descriptor> {
  const fetched = await fetchManifest(context, repository, ref.version, signal);
  if (fetched === undefined) throw new BentoportError('ERR_NOT_FOUND', `[registry-oci] ${context.host}/${repository}:${ref.version} does not exist: push it before its signature`);
  return { mediaType: MANIFEST_MEDIA_TYPE, digest: fetched.digest, size: fetched.size };
}

/** The referrers tag schema's tag for a subject: `sha256-<hex>`. */
function fallbackTag(subjectDigest: string): string {
  return subjectDigest.replace(':', '-');
}

async function putJson(context: OciContext, repository: string, reference: string, mediaType: string, body: Buffer, signal: AbortSignal | undefined): Promise<{ get(name: string): string | null }> {
  const response = await context.client.request('PUT', `/v2/${repository}/manifests/${reference}`, {
    scope: pushScope(repository),
    signal,
    body,
    headers: { 'content-type': mediaType, 'content-length': String(body.length) },
  });
  if (response.status !== 201) throw await context.client.failure(response, 'PUT', `${context.display} ${repository}@${reference}`);
  await discardBody(response);
  return response.headers;
}

async function getJson<T>(context: OciContext, path: string, repository: string, accept: string, signal: AbortSignal | undefined): Promise<T | undefined> {
  const response = await context.client.request('GET', path, { scope: pullScope(repository), signal, headers: { accept } });
  if (response.status === 404) {
    await discardBody(response);
    return undefined;
  }
  if (response.status !== 200) throw await context.client.failure(response, 'GET', `${context.display} ${path}`);
  try {
    return JSON.parse(Buffer.from(await response.arrayBuffer()).toString('utf8')) as T;
  } catch (error) {
    throw new BentoportError('ERR_CORRUPT_ARCHIVE', `[registry-oci] ${context.host}${path}: the answer is not JSON`, { cause: error });
  }
}

/**
 * Attach `signatureText` to the item `ref` as a referrer, and list it in the fallback index when
 * the registry did not take the subject itself (no `OCI-Subject` header). The same signature
 * twice is listed once.
 * @throws {BentoportError} ERR_NOT_FOUND (the item is not there), ERR_AUTH, ERR_IO.
 */
export async function putSignature(context: OciContext, ref: RegistryItemRef, signatureText: string, options: RegistryOperationOptions): Promise<void> {
  const repository = itemRepository(context.prefix, ref.kind, ref.name);
  const subject = await subjectOf(context, repository, ref, options.signal);
  const upload = baseUploadContext(context, repository, options);
  const config = await uploadSmallBlob(upload, EMPTY_CONFIG);
  const layer = await uploadSmallBlob(upload, Buffer.from(signatureText, 'utf8'));
  const manifest: ImageManifest & { subject: Descriptor } = {
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    artifactType: SIGNATURE_ARTIFACT_TYPE,
    config: { mediaType: EMPTY_MEDIA_TYPE, ...config },
    layers: [{ mediaType: SIGNATURE_LAYER_MEDIA_TYPE, ...layer }],
    subject,
    annotations: { [ANNOTATION.tag]: `${ref.name}:${ref.version}`, [ANNOTATION.created]: new Date().toISOString() },
  };
  const body = Buffer.from(JSON.stringify(manifest));
  const digest = contentDigest(body);
  const headers = await putJson(context, repository, digest, MANIFEST_MEDIA_TYPE, body, options.signal);
  if (headers.get('oci-subject') !== null) return;
  await addToFallbackIndex(context, repository, subject.digest, { mediaType: MANIFEST_MEDIA_TYPE, digest, size: body.length, artifactType: SIGNATURE_ARTIFACT_TYPE }, options.signal);
}

async function addToFallbackIndex(context: OciContext, repository: string, subjectDigest: string, referrer: ImageIndex['manifests'][number], signal: AbortSignal | undefined): Promise<void> {
  const tag = fallbackTag(subjectDigest);
  const index = (await getJson<ImageIndex>(context, `/v2/${repository}/manifests/${tag}`, repository, INDEX_MEDIA_TYPE, signal)) ?? {
    schemaVersion: 2,
    mediaType: INDEX_MEDIA_TYPE,
    manifests: [],
  };
  if (index.manifests.some((entry) => entry.digest === referrer.digest)) return;
  index.manifests.push(referrer);
  await putJson(context, repository, tag, INDEX_MEDIA_TYPE, Buffer.from(JSON.stringify(index)), signal);
}

/** The item's signature referrers, newest last: the referrers API, else the fallback index. */
async function signatureReferrers(context: OciContext, repository: string, subjectDigest: string, signal: AbortSignal | undefined): Promise<Descriptor[]> {
  const viaApi = await getJson<ImageIndex>(context, `/v2/${repository}/referrers/${subjectDigest}?artifactType=${encodeURIComponent(SIGNATURE_ARTIFACT_TYPE)}`, repository, INDEX_MEDIA_TYPE, signal);
  const index = viaApi ?? (await getJson<ImageIndex>(context, `/v2/${repository}/manifests/${fallbackTag(subjectDigest)}`, repository, INDEX_MEDIA_TYPE, signal));
  return (index?.manifests ?? []).filter((entry) => entry.artifactType === SIGNATURE_ARTIFACT_TYPE);
}

async function fetchBlobText(context: OciContext, repository: string, layer: Descriptor, signal: AbortSignal | undefined): Promise<string> {
  if (layer.size > SIGNATURE_MAX_BYTES) throw new BentoportError('ERR_CORRUPT_ARCHIVE', `[registry-oci] signature of ${layer.size} bytes in ${repository} is too large`);
  const response = await context.client.request('GET', `/v2/${repository}/blobs/${layer.digest}`, { scope: pullScope(repository), signal });
  if (response.status !== 200) throw await context.client.failure(response, 'GET', `${context.display} ${repository} blob ${layer.digest}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  if (contentDigest(bytes) !== layer.digest) throw new BentoportError('ERR_CORRUPT_ARCHIVE', `[registry-oci] signature blob ${layer.digest} in ${repository} does not match its digest`);
  return bytes.toString('utf8');
}

/**
 * The newest signature attached to the item `ref`, or undefined when it has none.
 * @throws {BentoportError} ERR_NOT_FOUND (the item is not there), ERR_CORRUPT_ARCHIVE, ERR_AUTH, ERR_IO.
 */
export async function getSignature(context: OciContext, ref: RegistryItemRef, options: RegistryOperationOptions): Promise<string | undefined> {
  const repository = itemRepository(context.prefix, ref.kind, ref.name);
  const subject = await subjectOf(context, repository, ref, options.signal);
  const newest = (await signatureReferrers(context, repository, subject.digest, options.signal)).at(-1);
  if (newest === undefined) return undefined;
  const fetched = await fetchManifest(context, repository, newest.digest, options.signal);
  const layer = fetched?.manifest.layers.find((entry) => entry.mediaType === SIGNATURE_LAYER_MEDIA_TYPE);
  if (layer === undefined) throw new BentoportError('ERR_CORRUPT_ARCHIVE', `[registry-oci] signature referrer ${newest.digest} in ${repository} has no signature layer`);
  return fetchBlobText(context, repository, layer, options.signal);
}
