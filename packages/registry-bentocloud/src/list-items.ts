import type { RegistryListing, RegistryListOptions } from '@bentoport/spec';
import { modelReferences, throwIfAborted, timeMicroseconds, withRetry } from '@bentoport/plugin-kit';
import { CloudApi, type CloudItem, type ItemKind } from './cloud-api.js';
import { COMPONENT } from './cloud-errors.js';
import type { CloudSession } from './cloud-session.js';

/** Items asked for per page of a list answer. */
const PAGE_SIZE = 100;
/** Pages followed at most: 100,000 items. */
const MAX_PAGES = 1000;

/** An item of a list answer: BentoWithRepositorySchema / ModelWithRepositorySchema on the organisation's lists. */
interface ListedItem extends CloudItem {
  build_at?: string | null;
  repository?: { name?: string } | null;
}

/** The part of BentoCloud's list answer (`{start, count, total, items}`) this client reads. */
interface ListPage {
  total?: number;
  items?: ListedItem[] | null;
}

const asObject = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {});

/**
 * One complete item as a listing, from what the list answer says: the creation time from
 * `build_at` (which push sets to the item's creation_time), a bento's models and a model's module
 * and size from the manifest. A bento's `size_bytes` counts its models too, so it is not the
 * bento's own size and is left out; BentoCloud keeps no content digest and no yaml document.
 */
function itemListing(kind: ItemKind, name: string, item: ListedItem): RegistryListing {
  const manifest = asObject(item.manifest);
  const creationTime = typeof item.build_at === 'string' ? timeMicroseconds(item.build_at) : undefined;
  const size = manifest.size_bytes;
  return {
    kind,
    name,
    version: item.version,
    ...(creationTime === undefined ? {} : { creationTime }),
    ...(kind === 'bento' ? { models: modelReferences(manifest.models) } : {}),
    ...(kind === 'model' && typeof manifest.module === 'string' ? { module: manifest.module } : {}),
    ...(kind === 'model' && Number.isSafeInteger(size) && (size as number) >= 0 ? { size: size as number } : {}),
  };
}

/** Every item of a paged list, `?start=&count=` until `total` (or an empty or repeated page). */
async function listedItems(session: CloudSession, path: string, signal: AbortSignal | undefined): Promise<ListedItem[]> {
  const collected: ListedItem[] = [];
  const seen = new Set<string>();
  for (let page = 0; page < MAX_PAGES; page++) {
    const pagePath = `${path}?start=${collected.length}&count=${PAGE_SIZE}`;
    const answer = await withRetry(() => session.api().call<ListPage>('GET', pagePath, undefined, { signal, optional: true }), { ...session.retry, ...(signal ? { signal } : {}) });
    const items = (answer?.items ?? []).filter((item) => !seen.has(`${item.repository?.name ?? ''}:${item.version}`));
    for (const item of items) seen.add(`${item.repository?.name ?? ''}:${item.version}`);
    collected.push(...items);
    if (items.length === 0 || collected.length >= (answer?.total ?? 0)) break;
  }
  return collected;
}

/**
 * The complete items of `kind`: one repository's (`GET /{kind}_repositories/{name}/{kind}s`) or
 * the organisation's (`GET /{kind}s`, whose items name their repository), paged. Items whose
 * upload did not finish are left out.
 * @throws {BentoportError} ERR_AUTH, ERR_IO (after the retries), ERR_ABORTED, ERR_INVALID_OPTION for an unusable context.
 */
export async function listItems(session: CloudSession, kind: ItemKind, options: RegistryListOptions): Promise<RegistryListing[]> {
  const { name, signal } = options;
  throwIfAborted(signal, COMPONENT, 'LIST', session.url());
  const path = name === undefined ? `/${kind}s` : `${CloudApi.repositoryPath(kind, name)}/${kind}s`;
  const items = await listedItems(session, path, signal);
  return items.flatMap((item) => {
    const itemName = name ?? item.repository?.name;
    return item.upload_status === 'success' && typeof itemName === 'string' && typeof item.version === 'string' ? [itemListing(kind, itemName, item)] : [];
  });
}
