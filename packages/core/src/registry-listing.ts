import { BentoportError, type Registry, type RegistryItemRef, type RegistryListing } from '@bentoport/spec';
import { stringify as stringifyYaml } from 'yaml';
import { TYPE_NAME } from './item-store.js';
import { parseTag } from './tag.js';

type ItemKind = RegistryItemRef['kind'];

/** Options of {@link listRegistryItems} and {@link getRegistryItem}. */
export interface RegistryListingOptions {
  signal?: AbortSignal;
}

/** A registry's item as `bentoport list URL` and `get URL/TAG` show it. */
export interface RegistryItemInfo extends RegistryListing {
  /** `name:version`. */
  tag: string;
  /**
   * For a bento: the bytes of the models it references, as the registry lists them (the `Model
   * Size` column); undefined when one of them is not listed with a size, or for a model.
   */
  modelSize?: number;
  /** The registry's address, credentials removed: `oci://127.0.0.1:5000/team`. */
  registry: string;
}

/**
 * The registry's listing capability, or a coded refusal naming the registry and what cannot be
 * done without it (`pull by tag instead`).
 * @throws {BentoportError} ERR_INVALID_TARGET when the registry does not declare `capabilities.listItems`.
 */
export function registryListing(registry: Registry, without = 'pull by tag instead'): NonNullable<Registry['listItems']> {
  if (registry.capabilities.listItems !== true || typeof registry.listItems !== 'function') {
    throw new BentoportError('ERR_INVALID_TARGET', `registry ${registry.url} (${registry.name}) cannot list what it holds (no listItems); ${without}`);
  }
  return registry.listItems.bind(registry);
}

/** The newest of `items`: the greatest creation time, equal times to the greater version (registry-oci's `latest` rule). */
function newest(items: readonly RegistryListing[]): RegistryListing | undefined {
  let best: RegistryListing | undefined;
  for (const item of items) {
    const created = item.creationTime ?? 0;
    const bestCreated = best?.creationTime ?? 0;
    if (best === undefined || created > bestCreated || (created === bestCreated && item.version > best.version)) best = item;
  }
  return best;
}

/**
 * Each bento's model size, from one listing per referenced model name (so a store of twenty
 * bentos sharing three models asks three times).
 */
async function withModelSizes(registry: Registry, items: RegistryListing[], signal: AbortSignal | undefined): Promise<RegistryItemInfo[]> {
  const listItems = registryListing(registry);
  const modelNames = new Set(items.flatMap((item) => (item.kind === 'bento' ? (item.models ?? []).map((model) => model.name) : [])));
  const modelSizes = new Map<string, number | undefined>();
  for (const name of modelNames) {
    for (const model of await listItems('model', { name, ...(signal ? { signal } : {}) })) modelSizes.set(`${model.name}:${model.version}`, model.size);
  }
  return items.map((item) => {
    const info: RegistryItemInfo = { ...item, tag: `${item.name}:${item.version}`, registry: registry.url };
    if (item.kind !== 'bento' || item.models === undefined) return info;
    const sizes = item.models.map((model) => modelSizes.get(`${model.name}:${model.version}`));
    if (sizes.every((size): size is number => size !== undefined)) info.modelSize = sizes.reduce((sum, size) => sum + size, 0);
    return info;
  });
}

/**
 * What a registry holds, as the local `list` reads the store: every item of `kind` (no
 * `tagLike`), every version of a name, `[item]`/`[]` for `name:version`, the newest for
 * `name:latest`; newest first. Read from the registry's records (`listItems`), never its content.
 * @example
 * ```ts
 * import { listRegistryItems } from '@bentoport/core';
 *
 * // `registry`: any Registry plugin instance whose capabilities.listItems is true.
 * for (const item of await listRegistryItems(registry, 'bento', 'iris_classifier')) {
 *   console.log(item.tag, item.size, item.modelSize);
 * }
 * ```
 * @throws {BentoportError} ERR_NOT_FOUND `no Bentos with name 'x' found` for a name the registry
 * holds no version of, ERR_INVALID_TAG, ERR_INVALID_TARGET when the registry cannot list
 * (no `capabilities.listItems`), and the registry's ERR_AUTH, ERR_IO, ERR_ABORTED.
 */
export async function listRegistryItems(registry: Registry, kind: ItemKind, tagLike?: string, options: RegistryListingOptions = {}): Promise<RegistryItemInfo[]> {
  const listItems = registryListing(registry);
  const { signal } = options;
  const tag = tagLike === undefined ? undefined : parseTag(tagLike);
  const items = await listItems(kind, { ...(tag ? { name: tag.name } : {}), ...(signal ? { signal } : {}) });
  if (tag !== undefined && tag.version === undefined && items.length === 0) {
    throw new BentoportError('ERR_NOT_FOUND', `no ${TYPE_NAME[kind]}s with name '${tag.name}' found in ${registry.url}`);
  }
  const latest = tag?.version === 'latest' ? newest(items) : undefined;
  const chosen = tag?.version === undefined ? items : tag.version === 'latest' ? (latest ? [latest] : []) : items.filter((item) => item.version === tag.version);
  const sorted = [...chosen].sort((a, b) => (b.creationTime ?? 0) - (a.creationTime ?? 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return withModelSizes(registry, sorted, signal);
}

/**
 * One item a registry holds, as the local `get` resolves a tag: `name` and `name:latest` the
 * newest, `name:version` exactly, else a unique version prefix.
 * @throws {BentoportError} ERR_NOT_FOUND, ERR_AMBIGUOUS (`Multiple x versions found: …`),
 * ERR_INVALID_TAG, ERR_INVALID_TARGET (no `capabilities.listItems`), and the registry's ERR_AUTH,
 * ERR_IO, ERR_ABORTED.
 */
export async function getRegistryItem(registry: Registry, kind: ItemKind, tagLike: string, options: RegistryListingOptions = {}): Promise<RegistryItemInfo> {
  const listItems = registryListing(registry);
  const { signal } = options;
  const tag = parseTag(tagLike);
  const items = await listItems(kind, { name: tag.name, ...(signal ? { signal } : {}) });
  const exact = tag.version === undefined || tag.version === 'latest' ? newest(items) : items.find((item) => item.version === tag.version);
  const matches = exact ? [exact] : items.filter((item) => item.version.startsWith(tag.version as string));
  if (matches.length > 1) {
    throw new BentoportError('ERR_AMBIGUOUS', `Multiple ${tag.name} versions found: ${matches.map((item) => item.version).sort().join(', ')}`);
  }
  const [found] = matches;
  if (found === undefined) throw new BentoportError('ERR_NOT_FOUND', `${TYPE_NAME[kind]} '${tagLike}' is not found in ${registry.url}`);
  const [info] = await withModelSizes(registry, [found], signal);
  return info as RegistryItemInfo;
}

/**
 * The yaml `get URL/TAG` prints: the item's `bento.yaml`/`model.yaml` document when the registry
 * keeps it (OCI's config blob), else what the registry's listing says of it.
 */
export function registryItemYaml(item: RegistryItemInfo): string {
  if (item.document !== undefined) return stringifyYaml(item.document, { indent: 2 });
  const { document: _document, ...described } = item;
  return stringifyYaml(described, { indent: 2 });
}
