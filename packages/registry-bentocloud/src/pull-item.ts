import { BentoportError, type ArchiveEntry, type RegistryItemRef, type RegistryOperationOptions } from '@bentoport/spec';
import { withRetry } from '@bentoport/plugin-kit';
import { CloudApi, type CloudItem, type DownloadResponse, type ItemKind } from './cloud-api.js';
import type { CloudSession } from './cloud-session.js';
import { sniffedStream, verifiedLength } from './downloads.js';
import { progressEmitter } from './progress-emitter.js';
import { getItem } from './remote-items.js';

const TYPE_NAME: Record<ItemKind, string> = { bento: 'Bento', model: 'Model' };
const STORE_NAME: Record<ItemKind, string> = { bento: 'Bento store', model: 'model store' };

/**
 * Pull one item as entries: its tar (gzip too), checked against the announced length and decoded
 * as it arrives, by the item's transmission strategy.
 * @throws {BentoportError} ERR_NOT_FOUND (absent, or never finished uploading), ERR_CORRUPT_ARCHIVE,
 * ERR_UNSUPPORTED_FORMAT, ERR_AUTH, ERR_IO, ERR_ABORTED.
 */
export async function* pullItem(session: CloudSession, ref: RegistryItemRef, options: RegistryOperationOptions): AsyncGenerator<ArchiveEntry> {
  const { signal } = options;
  const what = `${ref.kind} "${ref.name}:${ref.version}"`;
  const emit = progressEmitter(options.onProgress, 'pull');
  const remote = pullable(ref, await getItem(session, ref, signal));
  const download = await openDownload(session, ref, remote, what, signal);
  const total = download.length;
  const body = verifiedLength(download.body, total, what, (bytesDone) => emit({ type: 'bytes', bytesDone, ...(total === undefined ? {} : { bytesTotal: total }) }));
  const { format: token, stream } = await sniffedStream(body, what);
  try {
    yield* session.format.decode({ stream: () => stream, ...(total === undefined ? {} : { size: total }) }, { format: token, ...(signal ? { signal } : {}) });
  } finally {
    stream.destroy();
    body.destroy();
  }
}

/** The remote item when it has a finished upload; BentoML's "not found" otherwise. */
function pullable(ref: RegistryItemRef, remote: CloudItem | undefined): CloudItem {
  const tag = `${ref.name}:${ref.version}`;
  if (!remote) throw new BentoportError('ERR_NOT_FOUND', `${TYPE_NAME[ref.kind]} "${tag}" not found on remote ${STORE_NAME[ref.kind]}`);
  if (remote.upload_status !== 'success') {
    throw new BentoportError('ERR_NOT_FOUND', `${TYPE_NAME[ref.kind]} "${tag}" has no complete upload on remote ${STORE_NAME[ref.kind]} (upload status: ${remote.upload_status})`);
  }
  return remote;
}

/** The download stream: through the API for `proxy`, else from the presigned URL (or the API when BentoCloud gives none). */
async function openDownload(session: CloudSession, ref: RegistryItemRef, remote: CloudItem, what: string, signal: AbortSignal | undefined): Promise<DownloadResponse> {
  const api = session.api();
  const throughApi = () => api.proxyDownload(ref.kind, ref.name, ref.version, { signal });
  if (remote.transmission_strategy === 'proxy') return throughApi();
  const retry = { ...session.retry, ...(signal ? { signal } : {}) };
  const itemPath = CloudApi.itemPath(ref.kind, ref.name, ref.version);
  const presigned = await withRetry(() => api.call<CloudItem>('PATCH', `${itemPath}/presign_download_url`, undefined, { signal }), retry);
  const url = presigned?.presigned_download_url;
  return url ? withRetry(() => api.presignedDownload(url, what, { signal }), retry) : throughApi();
}
