import { BentoportError, type RegistryItemRef } from '@bentoport/spec';
import type { OciContext } from './oci-context.js';
import { pullScope } from './registry-client.js';
import { itemRepository } from './repository-names.js';

/** Pages of `tags/list` followed at most: 1000 pages of 1000 tags. */
const MAX_PAGES = 1000;

/**
 * The versions of `name`: its repository's tags, following `Link: <…>; rel="next"` pages.
 * @throws {BentoportError} ERR_NOT_FOUND when there are none, ERR_AUTH, ERR_IO.
 */
export async function listVersions(context: OciContext, kind: RegistryItemRef['kind'], name: string, signal: AbortSignal | undefined): Promise<string[]> {
  const repository = itemRepository(context.prefix, kind, name);
  const versions: string[] = [];
  let next: string | undefined = `/v2/${repository}/tags/list?n=1000`;
  for (let page = 0; next !== undefined && page < MAX_PAGES; page++) {
    const response = await context.client.request('GET', next, { scope: pullScope(repository), signal });
    if (response.status !== 200) throw await context.client.failure(response, 'GET', `${context.display} ${repository} tags`);
    const body = (await response.json()) as { tags?: string[] | null };
    versions.push(...(body.tags ?? []));
    const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(response.headers.get('link') ?? '');
    next = link ? (link[1] as string) : undefined;
  }
  if (versions.length === 0) throw new BentoportError('ERR_NOT_FOUND', `[registry-oci] no versions of ${kind} '${name}' in ${context.display}`);
  return versions;
}
