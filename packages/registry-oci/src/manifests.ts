import { BentoportError } from '@bentoport/spec';
import { MANIFEST_MEDIA_TYPE, contentDigest, type ImageManifest } from './artifact-layout.js';
import type { OciContext } from './oci-context.js';
import { discardBody, pullScope, pushScope } from './registry-client.js';

/**
 * Whether `repository` has a manifest tagged `reference` (`HEAD`, no body read).
 * @throws {BentoportError} ERR_AUTH, ERR_IO.
 */
export async function manifestExists(context: OciContext, repository: string, reference: string, signal: AbortSignal | undefined): Promise<boolean> {
  const response = await context.client.request('HEAD', `/v2/${repository}/manifests/${reference}`, { scope: pullScope(repository), signal, headers: { accept: MANIFEST_MEDIA_TYPE } });
  await discardBody(response);
  if (response.status === 200) return true;
  if (response.status === 404) return false;
  throw await context.client.failure(response, 'HEAD', `${context.display} ${repository}:${reference}`);
}

/**
 * The manifest tagged `reference` and its digest, checked against the `Docker-Content-Digest` the
 * registry announces; undefined when the registry has no such tag.
 * @throws {BentoportError} ERR_CORRUPT_ARCHIVE for a digest mismatch or a body that is not JSON, ERR_AUTH, ERR_IO.
 */
export async function fetchManifest(
  context: OciContext,
  repository: string,
  reference: string,
  signal: AbortSignal | undefined,
): Promise<{ manifest: ImageManifest; digest: string; size: number } | undefined> {
  const response = await context.client.request('GET', `/v2/${repository}/manifests/${reference}`, { scope: pullScope(repository), signal, headers: { accept: MANIFEST_MEDIA_TYPE } });
  if (response.status === 404) {
    await discardBody(response);
    return undefined;
  }
  if (response.status !== 200) throw await context.client.failure(response, 'GET', `${context.display} ${repository}:${reference}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  const digest = contentDigest(bytes);
  const announced = response.headers.get('docker-content-digest');
  const where = `[registry-oci] ${context.host}/${repository}:${reference}`;
  if (announced && announced !== digest) {
    throw new BentoportError('ERR_CORRUPT_ARCHIVE', `${where}: the manifest's digest is ${digest}, the registry announced ${announced}; nothing was stored`);
  }
  try {
    return { manifest: JSON.parse(bytes.toString('utf8')) as ImageManifest, digest, size: bytes.length };
  } catch (error) {
    throw new BentoportError('ERR_CORRUPT_ARCHIVE', `${where}: the manifest is not JSON`, { cause: error });
  }
}

/**
 * Tag `manifest` as `reference`: the last step of a push, which makes the item visible.
 * @returns the manifest's digest.
 * @throws {BentoportError} ERR_AUTH, ERR_IO.
 */
export async function putManifest(context: OciContext, repository: string, reference: string, manifest: ImageManifest, signal: AbortSignal | undefined): Promise<string> {
  const body = Buffer.from(JSON.stringify(manifest));
  const response = await context.client.request('PUT', `/v2/${repository}/manifests/${reference}`, {
    scope: pushScope(repository),
    signal,
    body,
    headers: { 'content-type': MANIFEST_MEDIA_TYPE, 'content-length': String(body.length) },
  });
  if (response.status !== 201) throw await context.client.failure(response, 'PUT', `${context.display} ${repository}:${reference} manifest`);
  await discardBody(response);
  return contentDigest(body);
}
