import type { OciContext } from './oci-context.js';
import { discardBody } from './registry-client.js';

/** Pages followed at most per listing: 1000 pages of 1000 names or tags. */
const MAX_PAGES = 1000;
/** Names or tags asked for per page (registries may send fewer, and then a `Link` to the rest). */
export const PAGE_SIZE = 1000;

/** The next page a distribution-spec answer points to: `Link: </v2/…?last=x&n=1000>; rel="next"`. */
function nextPage(link: string | null): string | undefined {
  const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link ?? '');
  return match ? (match[1] as string) : undefined;
}

/** One paged listing of the distribution spec (`/v2/_catalog`, `/v2/<repository>/tags/list`). */
export interface PagedListing {
  /** The first page's path, with `?n=`. */
  path: string;
  /** The token scope the listing needs. */
  scope: string;
  /** The array of the answer's JSON to collect: `repositories` or `tags`. */
  field: 'repositories' | 'tags';
  /** For messages: `oci://host/team catalog`. */
  target: string;
}

/**
 * Every string of a paged listing, following `Link: <…>; rel="next"` (at most 1000 pages).
 * @returns undefined when the first page is a 404 (an unknown repository, or no catalog API).
 * @throws {BentoportError} ERR_AUTH, ERR_IO (any other answer), ERR_ABORTED.
 */
export async function pagedListing(context: OciContext, listing: PagedListing, signal: AbortSignal | undefined): Promise<string[] | undefined> {
  const collected: string[] = [];
  let next: string | undefined = listing.path;
  for (let page = 0; next !== undefined && page < MAX_PAGES; page++) {
    const response = await context.client.request('GET', next, { scope: listing.scope, signal });
    if (response.status === 404 && page === 0) {
      await discardBody(response);
      return undefined;
    }
    if (response.status !== 200) throw await context.client.failure(response, 'GET', listing.target);
    const body = (await response.json()) as Partial<Record<PagedListing['field'], string[] | null>>;
    collected.push(...(body[listing.field] ?? []));
    next = nextPage(response.headers.get('link'));
  }
  return collected;
}
