import type { OciContext } from './oci-context.js';
import { discardBody, pullScope, pushScope } from './registry-client.js';

/**
 * Whether `repository` holds the blob `digest` (`HEAD`).
 * @throws {BentoportError} ERR_AUTH, ERR_IO.
 */
export async function blobExists(context: OciContext, repository: string, digest: string, signal: AbortSignal | undefined): Promise<boolean> {
  const response = await context.client.request('HEAD', `/v2/${repository}/blobs/${digest}`, { scope: pushScope(repository), signal });
  await discardBody(response);
  if (response.status === 200) return true;
  if (response.status === 404) return false;
  throw await context.client.failure(response, 'HEAD', `${context.display} ${repository} blob ${digest}`);
}

/**
 * Mount the blob `digest` from the sibling repository `from` into `repository`, so it is not
 * uploaded again. True when the registry mounted it (201); false when it would not, so the caller
 * uploads instead.
 * @throws {BentoportError} ERR_AUTH when the credentials may not push or may not read `from`.
 */
export async function mountBlob(context: OciContext, repository: string, from: string, digest: string, signal: AbortSignal | undefined): Promise<boolean> {
  const mountPath = `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
  const response = await context.client.request('POST', mountPath, { scope: `${pushScope(repository)} ${pullScope(from)}`, signal, headers: { 'content-length': '0' } });
  await discardBody(response);
  if (response.status === 201) return true;
  if (response.status === 202) {
    await cancelOpenedUpload(context, repository, response.headers.get('location'));
    return false;
  }
  if (response.status === 401 || response.status === 403) throw await context.client.failure(response, 'POST', `${context.display} ${repository} mount`);
  return false;
}

/** A registry that does not mount opens an ordinary upload instead: cancel it, whatever happens. */
async function cancelOpenedUpload(context: OciContext, repository: string, location: string | null): Promise<void> {
  if (!location) return;
  await context.client
    .request('DELETE', new URL(location, context.client.baseUrl).href, { scope: pushScope(repository) })
    .then(discardBody)
    .catch(() => undefined);
}
