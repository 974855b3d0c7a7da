import { parseNetloc, pluginFailure, resolveLogin } from '@bentoport/plugin-kit';
import type { Location } from '@bentoport/spec';
import { COMPONENT } from './ftp-replies.js';

export type TlsMode = 'none' | 'explicit' | 'implicit';

/** Where and how to log in, from a location (URL credentials first, then netrc, then anonymous). */
export interface FtpEndpoint {
  hostname: string;
  port: number;
  user: string;
  password: string;
  tls: TlsMode;
  /** Identifies interchangeable connections in the pool (kept in memory only). */
  key: string;
  /** Strings that must never appear in a message. */
  secrets: string[];
}

export interface EndpointSettings {
  netrc: boolean;
  env: NodeJS.ProcessEnv;
}

function tlsFromQuery(location: Location): TlsMode | undefined {
  const params = new URLSearchParams(location.query);
  for (const key of params.keys()) {
    if (key !== 'tls') {
      throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'RESOLVE', location.display, `unknown parameter '${key}' (the FTP transport reads only 'tls')`);
    }
  }
  const value = params.get('tls');
  if (value === null) return undefined;
  const normalised = value.toLowerCase();
  if (['explicit', 'true', '1', 'yes'].includes(normalised)) return 'explicit';
  if (normalised === 'implicit') return 'implicit';
  if (['none', 'false', '0', 'no', 'off'].includes(normalised)) return 'none';
  throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'RESOLVE', location.display, `tls=${value} is not one of explicit, implicit, none`);
}

/**
 * Resolve a location's host into an endpoint. `ftps://` means implicit TLS (port 990), `ftp://`
 * plain FTP (port 21); `?tls=explicit` upgrades either with AUTH TLS, and `?tls=implicit` asks for
 * implicit TLS on any scheme.
 */
export async function resolveEndpoint(location: Location, settings: EndpointSettings): Promise<FtpEndpoint> {
  if (location.protocol !== 'ftp' && location.protocol !== 'ftps') {
    throw pluginFailure(COMPONENT, 'ERR_UNSUPPORTED_PROTOCOL', 'RESOLVE', location.display, `protocol ${location.protocol} is not ftp or ftps`);
  }
  const netloc = parseNetloc(location.host, location.display);
  const tls = tlsFromQuery(location) ?? (location.protocol === 'ftps' ? 'implicit' : 'none');
  let { user, password } = await resolveLogin(netloc, { netrc: settings.netrc, env: settings.env });
  user ??= 'anonymous';
  password ??= user === 'anonymous' ? 'anonymous@' : '';
  const port = netloc.port ?? (tls === 'implicit' ? 990 : 21);
  return {
    hostname: netloc.hostname,
    port,
    user,
    password,
    tls,
    key: JSON.stringify([tls, netloc.hostname, port, user, password]),
    secrets: password === '' || password === 'anonymous@' ? [] : [password],
  };
}
