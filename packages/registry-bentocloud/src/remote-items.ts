import type { RegistryItemRef } from '@bentoport/spec';
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
