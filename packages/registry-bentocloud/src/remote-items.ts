import { BentoportError, type RegistryItemRef } from '@bentoport/spec';
import { COMPONENT } from './cloud-errors.js';
import { withRetry } from '@bentoport/plugin-kit';
import { CloudApi, type CloudItem, type ItemKind } from './cloud-api.js';
import type { CloudSession } from './cloud-session.js';

/** A GET of BentoCloud's, retried on transient failures: reads change nothing. */
function retriedGet<T>(session: CloudSession, path: string, signal: AbortSignal | undefined): Promise<T | undefined> {
  return withRetry(() => session.api().call<T>('GET', path, undefined, { signal, optional: true }), { ...session.retry, ...(signal ? { signal } : {}) });
}

/**
 * The item as BentoCloud holds it, or undefined when it does not.
 * @throws {BentoportError} ERR_AUTH, ERR_IO (after the retries), ERR_INVALID_OPTION for an unusable context.
 */
export function getItem(session: CloudSession, ref: RegistryItemRef, signal: AbortSignal | undefined): Promise<CloudItem | undefined> {
  return retriedGet<CloudItem>(session, CloudApi.itemPath(ref.kind, ref.name, ref.version), signal);
}

/** Create the repository of `name` when it is missing, one creation at a time per name. */
export async function ensureRepository(session: CloudSession, kind: ItemKind, name: string, signal: AbortSignal | undefined): Promise<void> {
  const key = `${kind}/${name}`;
  const previous = session.repositoryLocks.get(key) ?? Promise.resolve();
  const current = previous
    .catch(() => undefined)
    .then(async () => {
      if ((await retriedGet(session, CloudApi.repositoryPath(kind, name), signal)) !== undefined) return;
      await session.api().call('POST', `/${kind}_repositories`, { name, description: '' }, { signal });
    });
  session.repositoryLocks.set(key, current);
  await current;
}

/** Where an item lives, for results and messages: `bentocloud://default/bentos/svc:v1`. */
export function itemLocation(session: CloudSession, ref: RegistryItemRef): string {
  return `${session.url()}/${ref.kind}s/${ref.name}:${ref.version}`;
}

/** The part of BentoCloud's list answer (`{start, count, total, items}`) this client reads. */
interface CloudItemPage {
  items?: CloudItem[] | null;
}

/**
 * The version `bentoml models pull NAME` would fetch: BentoCloud lists a repository's items
 * newest first, and BentoML takes the first of `?start=0&count=10`. Unlike BentoML, an item whose
 * upload never finished is passed over, since pulling it could only fail.
 * @throws {BentoportError} ERR_NOT_FOUND when the repository is missing or holds no complete
 * item on that page, ERR_AUTH, ERR_IO (after the retries).
 */
export async function latestVersion(session: CloudSession, kind: ItemKind, name: string, signal: AbortSignal | undefined): Promise<string> {
  const page = await retriedGet<CloudItemPage>(session, `${CloudApi.repositoryPath(kind, name)}/${kind}s?start=0&count=10`, signal);
  const newest = (page?.items ?? []).find((item) => item.upload_status === 'success');
  if (newest === undefined) {
    const type = kind === 'bento' ? 'Bento' : 'Model';
    throw new BentoportError('ERR_NOT_FOUND', `[${COMPONENT}] ${type} "${name}" not found on remote ${type} store ${session.url()}`);
  }
  return newest.version;
}
