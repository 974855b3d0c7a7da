import { discardBody, pluginFailure, readBodyText } from '@bentoport/plugin-kit';
import type { TransportListEntry, TransportStat } from '@bentoport/spec';
import { headerValue, type HttpClient } from './http-client.js';
import { COMPONENT, statusFailure } from './http-status.js';
import { displayUrl, parentUrl, type RequestTarget } from './request-target.js';

/** The PROPFIND body: only the properties bentoport reads. */
const PROPFIND_BODY =
  '<?xml version="1.0" encoding="utf-8"?>\n' +
  '<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getcontentlength/><D:getlastmodified/><D:getetag/></D:prop></D:propfind>\n';

/** One `<response>` of a 207 Multi-Status answer. */
export interface DavResource {
  /** The href, percent-decoded, as a path. */
  path: string;
  collection: boolean;
  size: number;
  mtime?: Date;
  etag?: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeXmlText(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, entity: string) => {
    if (entity.startsWith('#x') || entity.startsWith('#X')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number(entity.slice(1)));
    return ENTITIES[entity.toLowerCase()] ?? whole;
  });
}

/** The text of the first `<prefix:name>` element in `xml` (any namespace prefix), or undefined. */
function elementText(xml: string, name: string): string | undefined {
  const match = new RegExp(`<(?:[A-Za-z_][\\w.-]*:)?${name}\\b[^>]*?(?:/>|>([\\s\\S]*?)</(?:[A-Za-z_][\\w.-]*:)?${name}\\s*>)`, 'i').exec(xml);
  if (match === null) return undefined;
  return decodeXmlText((match[1] ?? '').trim());
}

/**
 * A small reader for the Multi-Status documents servers send for PROPFIND (RFC 4918 §14.16):
 * enough for href, resourcetype, getcontentlength, getlastmodified and getetag, whatever the
 * namespace prefix. Responses whose propstat is not 200 lose those properties, not the entry.
 */
export function parseMultiStatus(xml: string, base: URL): DavResource[] {
  const resources: DavResource[] = [];
  const responsePattern = /<(?:[A-Za-z_][\w.-]*:)?response\b[^>]*>([\s\S]*?)<\/(?:[A-Za-z_][\w.-]*:)?response\s*>/gi;
  let match: RegExpExecArray | null;
  while ((match = responsePattern.exec(xml)) !== null) {
    const block = match[1] ?? '';
    const href = elementText(block, 'href');
    if (href === undefined) continue;
    let pathName: string;
    try {
      pathName = decodeURIComponent(new URL(href, base).pathname);
    } catch {
      continue;
    }
    const resourceType = elementText(block, 'resourcetype') ?? '';
    const length = Number(elementText(block, 'getcontentlength') ?? '0');
    const modified = elementText(block, 'getlastmodified');
    const mtime = modified === undefined ? undefined : new Date(modified);
    const etag = elementText(block, 'getetag');
    resources.push({
      path: pathName,
      collection: /<(?:[A-Za-z_][\w.-]*:)?collection\b/i.test(resourceType) || /<(?:[A-Za-z_][\w.-]*:)?resourcetype\b[^>]*>\s*<(?:[A-Za-z_][\w.-]*:)?collection\b/i.test(block),
      size: Number.isSafeInteger(length) && length >= 0 ? length : 0,
      ...(mtime !== undefined && !Number.isNaN(mtime.getTime()) ? { mtime } : {}),
      ...(etag === undefined || etag === '' ? {} : { etag }),
    });
  }
  return resources;
}

/**
 * Whether the server speaks WebDAV at this URL's parent: an `OPTIONS` answer with a `DAV`
 * header, or `MOVE` in `Allow`. Any failure means "no" (a presigned URL refuses OPTIONS).
 */
export async function detectWebdav(client: HttpClient, target: RequestTarget, signal: AbortSignal | undefined): Promise<boolean> {
  const url = parentUrl(target.url);
  const response = await client.send(target, 'OPTIONS', { method: 'OPTIONS', url, signal, followRedirects: false });
  await discardBody(response.body);
  // 401 asks for credentials, whatever the server is: the upload would be refused too. (A
  // presigned URL answers 403 to OPTIONS, and its PUT may still be allowed.)
  if (response.status === 401) throw statusFailure(401, 'OPTIONS', target.display);
  if (response.status < 200 || response.status >= 300) return false;
  const dav = headerValue(response.headers, 'dav');
  const allow = (headerValue(response.headers, 'allow') ?? '').toUpperCase().split(/[\s,]+/);
  return (dav !== undefined && dav.trim() !== '') || allow.includes('MOVE');
}

/**
 * Create the collection at `url` (a path ending in `/`) and any missing parent, as `mkdir -p`:
 * `MKCOL` answers 201 when created, 405 when something is already there, 409 when a parent is missing.
 */
export async function ensureCollection(client: HttpClient, target: RequestTarget, url: URL, signal: AbortSignal | undefined, depth = 0): Promise<void> {
  if (url.pathname === '/' || depth > 64) return;
  const response = await client.send(target, 'MKCOL', { method: 'MKCOL', url, signal });
  await discardBody(response.body);
  const { status } = response;
  if ((status >= 200 && status < 300) || status === 405) return;
  if (status === 409) {
    await ensureCollection(client, target, parentUrl(url), signal, depth + 1);
    const again = await client.send(target, 'MKCOL', { method: 'MKCOL', url, signal });
    await discardBody(again.body);
    if ((again.status >= 200 && again.status < 300) || again.status === 405) return;
    throw statusFailure(again.status, 'MKCOL', displayUrl(url));
  }
  throw statusFailure(status, 'MKCOL', displayUrl(url));
}

/** `MOVE` with `Overwrite: T`: the atomic rename of WebDAV. */
export async function moveResource(client: HttpClient, target: RequestTarget, from: URL, signal: AbortSignal | undefined): Promise<void> {
  const response = await client.send(target, 'MOVE', {
    method: 'MOVE',
    url: from,
    headers: { destination: target.url.href, overwrite: 'T' },
    signal,
    followRedirects: false,
  });
  await discardBody(response.body);
  if (response.status < 200 || response.status >= 300) throw statusFailure(response.status, 'MOVE', target.display, `renaming ${displayUrl(from)}`);
}

/** PROPFIND at depth 0 or 1; undefined when the server does not support it (405, 501). */
export async function propfind(
  client: HttpClient,
  target: RequestTarget,
  url: URL,
  depth: 0 | 1,
  operation: string,
  signal: AbortSignal | undefined,
): Promise<DavResource[] | undefined> {
  const response = await client.send(target, operation, {
    method: 'PROPFIND',
    url,
    headers: { depth: String(depth), 'content-type': 'application/xml; charset=utf-8' },
    body: PROPFIND_BODY,
    signal,
  });
  if (response.status === 405 || response.status === 501) {
    await discardBody(response.body);
    return undefined;
  }
  if (response.status !== 207) {
    await discardBody(response.body);
    throw statusFailure(response.status, operation, target.display);
  }
  const text = await readBodyText(response.body);
  return parseMultiStatus(text, response.url);
}

/** `stat` from a PROPFIND entry. */
export function statOf(resource: DavResource): TransportStat {
  return {
    type: resource.collection ? 'directory' : 'file',
    size: resource.collection ? 0 : resource.size,
    ...(resource.mtime === undefined ? {} : { mtime: resource.mtime }),
    ...(resource.etag === undefined ? {} : { etag: resource.etag }),
  };
}

/** The entries of a depth-1 PROPFIND under `directory` (its own entry left out), sorted by name. */
export function entriesOf(resources: DavResource[], directory: URL, display: string): TransportListEntry[] {
  const own = decodeURIComponent(directory.pathname).replace(/\/+$/, '');
  const self = resources.find((resource) => resource.path.replace(/\/+$/, '') === own);
  if (self !== undefined && !self.collection) {
    throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'LIST', display, 'a file, not a collection, is at this location');
  }
  const entries: TransportListEntry[] = [];
  for (const resource of resources) {
    const trimmed = resource.path.replace(/\/+$/, '');
    if (trimmed === own || !trimmed.startsWith(`${own}/`)) continue;
    const name = trimmed.slice(own.length + 1);
    if (name === '' || name.includes('/')) continue;
    entries.push({ name, type: resource.collection ? 'directory' : 'file', size: resource.collection ? 0 : resource.size });
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
