import { BentoportError, type RegistryItemRef } from '@bentoport/spec';
import { ANNOTATION, ARTIFACT_TYPE } from './artifact-layout.js';
import { fetchManifest } from './manifests.js';
import type { OciContext } from './oci-context.js';
import { PAGE_SIZE, pagedListing } from './paged-listing.js';
import { pullScope } from './registry-client.js';
import { itemRepository } from './repository-names.js';

/**
 * The tags of `repository`: none (not an error) when nothing was ever pushed there (NAME_UNKNOWN).
 * @throws {BentoportError} ERR_AUTH, ERR_IO, ERR_ABORTED.
 */
export async function repositoryTags(context: OciContext, repository: string, signal: AbortSignal | undefined): Promise<string[]> {
  const listing = { path: `/v2/${repository}/tags/list?n=${PAGE_SIZE}`, scope: pullScope(repository), field: 'tags', target: `${context.display} ${repository} tags` } as const;
  return (await pagedListing(context, listing, signal)) ?? [];
}

/**
 * The versions of `name`: its repository's tags, following `Link: <…>; rel="next"` pages.
 * @throws {BentoportError} ERR_NOT_FOUND when there are none, ERR_AUTH, ERR_IO.
 */
export async function listVersions(context: OciContext, kind: RegistryItemRef['kind'], name: string, signal: AbortSignal | undefined): Promise<string[]> {
  const versions = await repositoryTags(context, itemRepository(context.prefix, kind, name), signal);
  if (versions.length === 0) throw new BentoportError('ERR_NOT_FOUND', `[registry-oci] no versions of ${kind} '${name}' in ${context.display}`);
  return versions;
}

/** A version and when its item was created, from the manifest's `org.opencontainers.image.created`. */
interface DatedVersion {
  version: string;
  created: number;
}

/** The creation time a manifest of ours announces, or undefined for a tag that is not a bentoport item of `kind`. */
async function datedVersion(context: OciContext, repository: string, kind: RegistryItemRef['kind'], version: string, signal: AbortSignal | undefined): Promise<DatedVersion | undefined> {
  const fetched = await fetchManifest(context, repository, version, signal);
  const manifest = fetched?.manifest;
  // As a pull reads it: an artifactType, when there is one, must be this kind's.
  if (manifest === undefined || (manifest.artifactType !== undefined && manifest.artifactType !== ARTIFACT_TYPE[kind])) return undefined;
  const created = Date.parse(manifest.annotations?.[ANNOTATION.created] ?? '');
  return Number.isNaN(created) ? undefined : { version, created };
}

/**
 * The version of `name` created last: every tag's manifest is read and the one whose
 * `org.opencontainers.image.created` (the bento's or model's creation_time, which this plugin
 * writes on push) is greatest wins; equal times go to the greater version string. This is
 * BentoML's rule for `latest` in its store: versions are random, not ordered, so only the
 * creation time says which is newest. Tags that are not bentoport items of `kind` are ignored.
 * @throws {BentoportError} ERR_NOT_FOUND when there is none, ERR_AUTH, ERR_IO.
 */
export async function latestVersion(context: OciContext, kind: RegistryItemRef['kind'], name: string, signal: AbortSignal | undefined): Promise<string> {
  const repository = itemRepository(context.prefix, kind, name);
  let newest: DatedVersion | undefined;
  for (const version of await listVersions(context, kind, name, signal)) {
    const candidate = await datedVersion(context, repository, kind, version, signal);
    if (candidate === undefined) continue;
    if (newest === undefined || candidate.created > newest.created || (candidate.created === newest.created && candidate.version > newest.version)) newest = candidate;
  }
  if (newest === undefined) throw new BentoportError('ERR_NOT_FOUND', `[registry-oci] no versions of ${kind} '${name}' in ${context.display}`);
  return newest.version;
}
