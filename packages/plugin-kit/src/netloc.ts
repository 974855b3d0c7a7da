import { BentoportError } from '@bentoport/spec';

/** A URL netloc (`Location.host`) taken apart, with user and password percent-decoded. */
export interface Netloc {
  user?: string;
  password?: string;
  /** The host name or address, without brackets around an IPv6 address. */
  hostname: string;
  port?: number;
}

function decode(text: string, what: string, display: string): string {
  try {
    return decodeURIComponent(text);
  } catch (error) {
    throw new BentoportError('ERR_INVALID_TARGET', `${display}: the ${what} is not valid percent-encoding`, { cause: error });
  }
}

/**
 * Split `user:pass@host:port` (BentoML's netloc, as `Location.host` holds it) into its parts and
 * decode the user and password, which core percent-encodes. `display` names the target in the
 * error (pass `location.display`: the password is already redacted there).
 * @throws {BentoportError} ERR_INVALID_TARGET for an empty host, a bad port or bad encoding.
 */
export function parseNetloc(host: string, display: string = host.replace(/:[^@]*@/, ':***@')): Netloc {
  const at = host.lastIndexOf('@');
  const userInfo = at === -1 ? undefined : host.slice(0, at);
  const address = at === -1 ? host : host.slice(at + 1);
  const result: Netloc = { hostname: '' };
  if (userInfo !== undefined) {
    const colon = userInfo.indexOf(':');
    result.user = decode(colon === -1 ? userInfo : userInfo.slice(0, colon), 'user name', display);
    if (colon !== -1) result.password = decode(userInfo.slice(colon + 1), 'password', display);
  }
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(address);
  if (!match || match[1] === '' || match[1] === '[]') {
    throw new BentoportError('ERR_INVALID_TARGET', `${display}: no host name in the URL`);
  }
  result.hostname = (match[1] as string).replace(/^\[|\]$/g, '');
  if (match[2] !== undefined && match[2] !== '') {
    const port = Number(match[2]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new BentoportError('ERR_INVALID_TARGET', `${display}: port ${match[2]} is out of range`);
    }
    result.port = port;
  }
  return result;
}
