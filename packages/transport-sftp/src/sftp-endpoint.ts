import { parseNetloc, pluginFailure, resolveLogin } from '@bentoport/plugin-kit';
import type { Location } from '@bentoport/spec';
import { COMPONENT } from './sftp-status.js';

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
    throw pluginFailure(COMPONENT, 'ERR_UNSUPPORTED_PROTOCOL', 'RESOLVE', location.display, `protocol ${location.protocol} is not sftp`);
  }
  if (location.query !== '') {
    const names = [...new URLSearchParams(location.query).keys()].join(', ');
    throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'RESOLVE', location.display, `unknown parameter ${names} (the SFTP transport reads none)`);
  }
  const netloc = parseNetloc(location.host, location.display);
  const login = await resolveLogin(netloc, { netrc: settings.netrc, env: settings.env });
  const { password } = login;
  const user = login.user ?? settings.defaultUser;
  const port = netloc.port ?? 22;
  return { hostname: netloc.hostname, port, user, password, key: JSON.stringify([netloc.hostname, port, user, password ?? null]) };
}
