import { dockerConfigPath, dockerCredentials, type OciCredentials } from './docker-credentials.js';
import type { RegistryUrl } from './registry-url.js';

/** Everything credentials may come from, in the order they are tried. */
export interface CredentialSources {
  username?: string | undefined;
  password?: string | undefined;
  url: RegistryUrl;
  /** `false` to skip docker's config, a path for another config file. */
  dockerConfig?: boolean | string | undefined;
  env: NodeJS.ProcessEnv;
}

/**
 * The credentials for a registry, first found wins: the options, the URL's userinfo,
 * `BENTOPORT_OCI_USERNAME` + `BENTOPORT_OCI_PASSWORD`, then docker's config (which may run a
 * credential helper). Undefined for anonymous access. Called only on a registry's first challenge.
 */
export async function lookUpCredentials(sources: CredentialSources): Promise<OciCredentials | undefined> {
  if (sources.username !== undefined || sources.password !== undefined) return { username: sources.username ?? '', password: sources.password ?? '' };
  if (sources.url.credentials) return sources.url.credentials;
  const { BENTOPORT_OCI_USERNAME: username, BENTOPORT_OCI_PASSWORD: password } = sources.env;
  if (username !== undefined && password !== undefined) return { username, password };
  if (sources.dockerConfig === false) return undefined;
  const file = typeof sources.dockerConfig === 'string' ? sources.dockerConfig : dockerConfigPath(sources.env);
  return dockerCredentials(sources.url.host, file);
}
