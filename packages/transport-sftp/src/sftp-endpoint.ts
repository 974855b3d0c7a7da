import { netrcCredentials, parseNetloc, type Location } from '@bentoport/core';
import { sftpFailure } from './sftp-errors.js';

/** Where and as whom to log in, from a location (URL first, then netrc, then the local user name). */
export interface SftpEndpoint {
  hostname: string;
  port: number;
  user: string;
  password: string | undefined;
  /** Identifies connections that can be shared (kept in memory only). */
  key: string;
}

export interface EndpointSettings {
  netrc: boolean;
  env: NodeJS.ProcessEnv;
  defaultUser: string;
}

export async function resolveEndpoint(location: Location, settings: EndpointSettings): Promise<SftpEndpoint> {
  if (location.protocol !== 'sftp') {
    throw sftpFailure('ERR_UNSUPPORTED_PROTOCOL', 'RESOLVE', location.display, `protocol ${location.protocol} is not sftp`);
  }
  if (location.query !== '') {
    const names = [...new URLSearchParams(location.query).keys()].join(', ');
    throw sftpFailure('ERR_INVALID_TARGET', 'RESOLVE', location.display, `unknown parameter ${names} (the SFTP transport reads none)`);
  }
  const netloc = parseNetloc(location.host, location.display);
  let { user, password } = netloc;
  if (settings.netrc && (user === undefined || password === undefined)) {
    const found = await netrcCredentials(netloc.hostname, { env: settings.env });
    if (user === undefined) {
      user = found?.login;
      password = found?.password;
    } else if (found?.login === undefined || found.login === user) {
      password = found?.password;
    }
  }
  user ??= settings.defaultUser;
  const port = netloc.port ?? 22;
  return { hostname: netloc.hostname, port, user, password, key: JSON.stringify([netloc.hostname, port, user, password ?? null]) };
}

/**
 * The server path of a location: absolute as given (`sftp://host/srv/x.tar` is `/srv/x.tar`), or
 * relative to the login directory when it starts with `/~/` (`sftp://host/~/x.tar`, as curl).
 */
export function serverPath(location: Location, home: string): string {
  const raw = location.path === '' ? '/' : location.path;
  if (raw === '/~' || raw.startsWith('/~/')) return `${home.replace(/\/+$/, '')}${raw.slice(2)}` || '/';
  return raw;
}

export function parentOf(filePath: string): string {
  const trimmed = filePath.replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  return slash <= 0 ? '/' : trimmed.slice(0, slash);
}

