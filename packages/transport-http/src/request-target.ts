import { pluginFailure } from '@bentoport/plugin-kit';
import type { Location } from '@bentoport/spec';
import { COMPONENT } from './http-status.js';

/** Query parameters whose name starts with this become request headers and leave the URL. */
export const HEADER_PARAM_PREFIX = 'header.';

/**
 * Query parameters whose values are secrets in the URL itself: presigned S3 (`X-Amz-Signature`,
 * `X-Amz-Security-Token`), Google Cloud Storage, Azure SAS (`sig`), CloudFront (`Signature`,
 * `Key-Pair-Id`), and the usual token names. Their values print as `***`.
 */
const SECRET_QUERY_NAMES =
  /^(x-amz-signature|x-amz-security-token|x-amz-credential|x-goog-signature|x-goog-credential|signature|sig|key-pair-id|policy|token|access_token|auth|password|passwd|secret|api_key|apikey)$/i;

/** Everything a request to a location needs: the URL to send, the headers from params, the credentials. */
export interface RequestTarget {
  /** Without user info; the query minus `header.*` parameters, byte for byte as given. */
  url: URL;
  /** Headers from `header.<Name>=<value>` parameters. */
  headers: Record<string, string>;
  /** From `user:password@` in the URL. */
  credentials?: { user: string; password: string };
  /** The URL for messages: password, secret query values and `header.*` values replaced by `***`. */
  display: string;
}

/** `application/x-www-form-urlencoded` decoding: core encodes params as Python's urlencode does. */
function decodeFormComponent(text: string): string {
  return decodeURIComponent(text.replace(/\+/g, ' '));
}

/** A header name is an RFC 9110 token. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The query with every secret value replaced by `***` (`header.*` values included). */
export function redactQuery(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .map((part) => {
      const equals = part.indexOf('=');
      if (equals === -1) return part;
      let name: string;
      try {
        name = decodeFormComponent(part.slice(0, equals));
      } catch {
        return `${part.slice(0, equals)}=***`;
      }
      return SECRET_QUERY_NAMES.test(name) || name.toLowerCase().startsWith(HEADER_PARAM_PREFIX) ? `${part.slice(0, equals)}=***` : part;
    })
    .join('&');
}

/** A URL for messages: no password, no signature. */
export function displayUrl(url: URL, user?: string): string {
  const userInfo = user === undefined || user === '' ? '' : `${encodeURIComponent(user)}:***@`;
  const query = redactQuery(url.search.replace(/^\?/, ''));
  return `${url.protocol}//${userInfo}${url.host}${url.pathname}${query === '' ? '' : `?${query}`}`;
}

function splitUserInfo(host: string, display: string): { hostPort: string; credentials?: { user: string; password: string } } {
  const at = host.lastIndexOf('@');
  if (at === -1) return { hostPort: host };
  const userInfo = host.slice(0, at);
  const colon = userInfo.indexOf(':');
  try {
    const user = decodeURIComponent(colon === -1 ? userInfo : userInfo.slice(0, colon));
    const password = colon === -1 ? '' : decodeURIComponent(userInfo.slice(colon + 1));
    return { hostPort: host.slice(at + 1), credentials: { user, password } };
  } catch (error) {
    throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'RESOLVE', display, 'the user name or password is not valid percent-encoding', { cause: error });
  }
}

/** Split `header.*` parameters off the query; every other parameter stays exactly as given. */
function splitQuery(query: string, display: string): { rest: string; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  const rest: string[] = [];
  for (const part of query === '' ? [] : query.split('&')) {
    const equals = part.indexOf('=');
    const rawName = equals === -1 ? part : part.slice(0, equals);
    let name: string;
    try {
      name = decodeFormComponent(rawName);
    } catch {
      rest.push(part);
      continue;
    }
    if (!name.toLowerCase().startsWith(HEADER_PARAM_PREFIX)) {
      rest.push(part);
      continue;
    }
    const headerName = name.slice(HEADER_PARAM_PREFIX.length);
    if (!TOKEN.test(headerName)) {
      throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'RESOLVE', display, `parameter ${HEADER_PARAM_PREFIX}${headerName} does not name a valid HTTP header`);
    }
    let value: string;
    try {
      value = equals === -1 ? '' : decodeFormComponent(part.slice(equals + 1));
    } catch (error) {
      throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'RESOLVE', display, `parameter ${HEADER_PARAM_PREFIX}${headerName} is not valid percent-encoding`, { cause: error });
    }
    if (/[\r\n\0]/.test(value)) {
      throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'RESOLVE', display, `parameter ${HEADER_PARAM_PREFIX}${headerName} holds a line break`);
    }
    headers[headerName] = value;
  }
  return { rest: rest.join('&'), headers };
}

/**
 * Resolve an `http`/`https` location into what a request needs.
 * @throws {BentoportError} ERR_UNSUPPORTED_PROTOCOL for another protocol, ERR_INVALID_TARGET for a bad URL or header parameter.
 */
export function requestTargetOf(location: Location, operation: string): RequestTarget {
  const { protocol } = location;
  // Never echo location.display blindly: a hand-made Location may carry secrets in it.
  const fallbackDisplay = `${protocol}://${location.host.replace(/^[^@]*@/, '***@')}${location.path}`;
  if (protocol !== 'http' && protocol !== 'https') {
    throw pluginFailure(COMPONENT, 'ERR_UNSUPPORTED_PROTOCOL', operation, fallbackDisplay, `protocol ${protocol} is not http or https`);
  }
  const { hostPort, credentials } = splitUserInfo(location.host, fallbackDisplay);
  if (hostPort === '') throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', operation, fallbackDisplay, 'the URL names no host');
  const { rest, headers } = splitQuery(location.query, fallbackDisplay);
  const pathPart = location.path === '' ? '/' : location.path.startsWith('/') ? location.path : `/${location.path}`;
  let url: URL;
  try {
    url = new URL(`${protocol}://${hostPort}${pathPart}${rest === '' ? '' : `?${rest}`}`);
  } catch (error) {
    throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', operation, fallbackDisplay, 'not a valid URL', { cause: error });
  }
  return { url, headers, ...(credentials === undefined ? {} : { credentials }), display: displayUrl(url, credentials?.user) };
}

/** The same URL with another last path segment (a sibling), keeping no query: temp names for WebDAV. */
export function siblingUrl(url: URL, name: string): URL {
  const sibling = new URL(url.href);
  sibling.pathname = url.pathname.replace(/[^/]*$/, encodeURIComponent(name));
  sibling.search = '';
  return sibling;
}

/** The parent collection of a URL, with a trailing slash and no query. */
export function parentUrl(url: URL): URL {
  const parent = new URL(url.href);
  parent.pathname = url.pathname.replace(/\/*[^/]*\/*$/, '/') || '/';
  parent.search = '';
  return parent;
}

/** The last path segment, decoded. */
export function baseName(url: URL): string {
  const segment = url.pathname.replace(/\/+$/, '').split('/').pop() ?? '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
