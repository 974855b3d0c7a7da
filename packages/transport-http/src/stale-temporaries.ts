import { discardBody, reportRemovedLeftover, type RecordedUpload, type UploadJournal } from '@bentoport/plugin-kit';
import type { ProgressListener } from '@bentoport/spec';
import type { HttpClient } from './http-client.js';
import { COMPONENT } from './http-status.js';
import { displayUrl, parentUrl, type RequestTarget } from './request-target.js';

/**
 * The journal scope of writes to `target`: the URL without its query (which may hold a
 * signature) and without credentials (a RequestTarget's URL has none).
 */
function scopeOf(target: RequestTarget): string {
  const url = new URL(target.url.href);
  url.search = '';
  return url.href;
}

/**
 * Write down the temporary resource a WebDAV write is about to PUT, before it can exist on the
 * server, so that if this process is killed before its MOVE or DELETE, the next write to the same
 * URL finds it (see {@link removeStaleTemporaries}). Remove the record once the resource is gone.
 */
export function recordTemporary(journal: UploadJournal, target: RequestTarget, temporary: URL): Promise<RecordedUpload> {
  return journal.record({ component: COMPONENT, scope: scopeOf(target), upload: temporary.href });
}

/**
 * DELETE a temporary resource: whether it is gone now (2xx, or 404: already removed, or never
 * stored because its PUT did not finish), and whether this request removed it.
 */
export async function deleteTemporary(client: HttpClient, target: RequestTarget, url: URL, signal?: AbortSignal): Promise<{ gone: boolean; removed: boolean }> {
  const response = await client.send(target, 'DELETE', { method: 'DELETE', url, signal, followRedirects: false });
  await discardBody(response.body);
  const removed = response.status >= 200 && response.status < 300;
  return { gone: removed || response.status === 404, removed };
}

/**
 * Remove the temporary resources that killed earlier WebDAV writes to `target` left beside it (a
 * SIGKILL between the PUT and the MOVE leaves no chance to `abort`), and say so. They are found
 * in the journal {@link recordTemporary} writes, not by listing the collection: WebDAV servers
 * may leave hidden names out of a PROPFIND (nginx's does), and every temporary name is hidden.
 * Only records whose writer is gone are used (the kit's owner check, as for every transport). A
 * record whose DELETE the server refused stays for the next write. Best effort: a failure here
 * never fails the write.
 */
export async function removeStaleTemporaries(
  client: HttpClient,
  target: RequestTarget,
  journal: UploadJournal,
  signal: AbortSignal | undefined,
  onProgress: ProgressListener | undefined,
): Promise<void> {
  for (const record of await journal.stale(COMPONENT, scopeOf(target))) {
    try {
      const leftover = new URL(record.upload);
      // A record names a sibling of this very URL; anything else is not this write's to delete.
      if (parentUrl(leftover).href !== parentUrl(target.url).href) continue;
      const { gone, removed } = await deleteTemporary(client, target, leftover, signal);
      if (removed) reportRemovedLeftover(onProgress, 'export', COMPONENT, displayUrl(leftover, target.credentials?.user));
      if (gone) await record.remove();
    } catch {
      // The server did not answer: the record stays for the next write, which tries again.
    }
  }
}
