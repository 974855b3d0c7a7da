import { BentoportError, type RegistryItemRef, type RegistryListing, type RegistryListOptions } from '@bentoport/spec';
import { modelReferences, throwIfAborted, timeMicroseconds } from '@bentoport/plugin-kit';
import { ARTIFACT_TYPE, CONFIG_MEDIA_TYPE, contentDigest, itemLayer, type Descriptor, type ImageManifest, type ItemConfig } from './artifact-layout.js';
import { repositoryTags } from './list-versions.js';
import { fetchManifest } from './manifests.js';
import type { OciContext } from './oci-context.js';
import { PAGE_SIZE, pagedListing } from './paged-listing.js';
import { pullScope } from './registry-client.js';
import { itemRepository, unescapeName } from './repository-names.js';

/** A config blob holds the item's yaml as JSON: a few KiB; anything past this is not ours. */
const CONFIG_MAX_BYTES = 4 * 1024 * 1024;
/** Tags read at once: each costs a manifest and a config GET, tiny answers bound by latency. */
const TAGS_IN_FLIGHT = 4;

/** An item's repository and its BentoML name. */
interface NamedRepository {
  repository: string;
  name: string;
}

/**
 * The BentoML name a catalog repository holds items of `kind` for, or undefined when it is not
 * one of this prefix's (another prefix's, a nested path, a signature-only repository is still a
 * name: its tags are filtered later).
 */
function repositoryName(prefix: string, kind: RegistryItemRef['kind'], repository: string): string | undefined {
  const base = prefix === '' ? '' : `${prefix}/`;
  if (!repository.startsWith(base)) return undefined;
  const rest = repository.slice(base.length).split('/');
  if (kind === 'bento' && rest.length === 1) return unescapeName(rest[0] as string);
  if (kind === 'model' && rest.length === 2 && rest[0] === 'models') return unescapeName(rest[1] as string);
  return undefined;
}

/**
 * Every repository under the prefix that holds items of `kind`, from the catalog API
 * (`/v2/_catalog`, paged by `Link`).
 * @throws {BentoportError} ERR_IO when the registry has no catalog API (GHCR, Docker Hub answer
 * 404): the message says to list one name instead; ERR_AUTH, ERR_ABORTED.
 */
async function catalogRepositories(context: OciContext, kind: RegistryItemRef['kind'], signal: AbortSignal | undefined): Promise<NamedRepository[]> {
  const listing = { path: `/v2/_catalog?n=${PAGE_SIZE}`, scope: 'registry:catalog:*', field: 'repositories', target: `${context.display} catalog` } as const;
  const repositories = await pagedListing(context, listing, signal);
  if (repositories === undefined) {
    throw new BentoportError('ERR_IO', `[registry-oci] GET ${context.display} catalog: this registry does not list its repositories (no /v2/_catalog); list one name instead (bentoport list ${context.display} NAME)`);
  }
  const named: NamedRepository[] = [];
  for (const repository of repositories) {
    const name = repositoryName(context.prefix, kind, repository);
    if (name !== undefined) named.push({ repository, name });
  }
  return named;
}

/**
 * The config blob of a manifest, digest-checked, when it is this plugin's config of `kind`.
 * @throws {BentoportError} ERR_CORRUPT_ARCHIVE when the blob does not match its digest or is not JSON, ERR_AUTH, ERR_IO.
 */
async function fetchItemConfig(context: OciContext, repository: string, descriptor: Descriptor, kind: RegistryItemRef['kind'], signal: AbortSignal | undefined): Promise<ItemConfig | undefined> {
  if (descriptor.mediaType !== CONFIG_MEDIA_TYPE[kind] || descriptor.size > CONFIG_MAX_BYTES) return undefined;
  const response = await context.client.request('GET', `/v2/${repository}/blobs/${descriptor.digest}`, { scope: pullScope(repository), signal });
  if (response.status !== 200) throw await context.client.failure(response, 'GET', `${context.display} ${repository} config ${descriptor.digest}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  const where = `[registry-oci] ${context.host}/${repository} config ${descriptor.digest}`;
  if (contentDigest(bytes) !== descriptor.digest) throw new BentoportError('ERR_CORRUPT_ARCHIVE', `${where} does not match its digest`);
  try {
    return JSON.parse(bytes.toString('utf8')) as ItemConfig;
  } catch (error) {
    throw new BentoportError('ERR_CORRUPT_ARCHIVE', `${where} is not JSON`, { cause: error });
  }
}

/** The item's layer, or undefined for a manifest without one (not a complete item: a pull of it fails, a listing leaves it out). */
function layerOrUndefined(manifest: ImageManifest, ref: RegistryItemRef, display: string): Descriptor | undefined {
  try {
    return itemLayer(manifest, ref, display);
  } catch {
    return undefined;
  }
}

/**
 * One tag as a listing, from its manifest and config blob (no layer is read), or undefined when
 * the tag is not a complete bentoport item of `kind` (another tool's image, a signature index).
 */
async function tagListing(context: OciContext, kind: RegistryItemRef['kind'], named: NamedRepository, version: string, signal: AbortSignal | undefined): Promise<RegistryListing | undefined> {
  const fetched = await fetchManifest(context, named.repository, version, signal);
  const manifest = fetched?.manifest;
  if (fetched === undefined || manifest === undefined || manifest.artifactType !== ARTIFACT_TYPE[kind] || manifest.config === undefined) return undefined;
  const ref = { kind, name: named.name, version };
  const layer = layerOrUndefined(manifest, ref, `${context.host}/${named.repository}:${version}`);
  if (layer === undefined) return undefined;
  const config = await fetchItemConfig(context, named.repository, manifest.config, kind, signal);
  if (config === undefined || config.kind !== kind || config.name !== named.name || config.version !== version) return undefined;
  const creationTime = timeMicroseconds(config.creationTime);
  const module = kind === 'model' ? config.metadata?.module : undefined;
  return {
    ...ref,
    ...(creationTime === undefined ? {} : { creationTime }),
    size: layer.size,
    digest: fetched.digest,
    ...(kind === 'bento' ? { models: modelReferences(config.models) } : {}),
    ...(typeof module === 'string' ? { module } : {}),
    ...(typeof config.metadata === 'object' && config.metadata !== null ? { document: config.metadata } : {}),
  };
}

/** Run `work` over `inputs`, at most `limit` at a time, results in input order; the first failure stops the rest. */
async function mapBounded<T, R>(inputs: readonly T[], limit: number, work: (input: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(inputs.length);
  let nextIndex = 0;
  async function worker(): Promise<void> {
    while (nextIndex < inputs.length) {
      const index = nextIndex++;
      results[index] = await work(inputs[index] as T);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, inputs.length) }, worker));
  return results;
}

/**
 * The complete bentoport items of `kind` under the registry's prefix: one name's repository, or
 * every repository the catalog lists; per tag, its manifest and config blob (creation time,
 * models, module, the yaml document) and the item layer's size, never a layer.
 * @returns an empty array when there are none.
 * @throws {BentoportError} ERR_IO (also: no catalog API and no `name`), ERR_CORRUPT_ARCHIVE, ERR_AUTH, ERR_ABORTED.
 */
export async function listItems(context: OciContext, kind: RegistryItemRef['kind'], options: RegistryListOptions): Promise<RegistryListing[]> {
  const { signal } = options;
  throwIfAborted(signal, 'registry-oci', 'LIST', context.display);
  const repositories = options.name === undefined ? await catalogRepositories(context, kind, signal) : [{ repository: itemRepository(context.prefix, kind, options.name), name: options.name }];
  const tags: Array<{ named: NamedRepository; version: string }> = [];
  for (const named of repositories) {
    for (const version of await repositoryTags(context, named.repository, signal)) tags.push({ named, version });
  }
  const listings = await mapBounded(tags, TAGS_IN_FLIGHT, ({ named, version }) => tagListing(context, kind, named, version, signal));
  return listings.filter((listing): listing is RegistryListing => listing !== undefined);
}
