import { BentoportError } from '@bentoport/spec';
import { redact } from '@bentoport/plugin-kit';
import type { OciCredentials } from './docker-credentials.js';
import { checkRepositoryPrefix } from './repository-names.js';

/** Loopback hosts always get plain HTTP, as Docker does: a local test registry has no certificate. */
const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[?::1\]?)$/i;

/** The parts of an `oci://HOST[:PORT]/REPOSITORY` URL. */
export interface RegistryUrl {
  /** `host[:port]`, lower-case: what docker's config and the token scopes name. */
  host: string;
  /** The host without its port. */
  hostname: string;
  /** The repository prefix items go under: `team/bentos`. */
  repository: string;
  /** From a `user:password@` in the URL. */
  credentials?: OciCredentials;
  /** The URL without credentials, for messages and `Registry.url`. */
  display: string;
}

/**
 * Split a registry URL and check its repository prefix.
 * @throws {BentoportError} ERR_INVALID_TARGET for anything but `oci://HOST[:PORT][/REPOSITORY]` with
 * a valid OCI repository path (none: items go to the registry's root, as `docker push HOST/NAME`).
 */
export function parseRegistryUrl(url: string): RegistryUrl {
  const match = /^oci:\/\/(?:([^@/]*)@)?([^/]+)(?:\/(.*?))?\/*$/i.exec(url.trim());
  if (!match) {
    throw new BentoportError('ERR_INVALID_TARGET', `[registry-oci] '${redact(url)}' is not an OCI registry URL: use oci://HOST[:PORT][/REPOSITORY]`);
  }
  const [, userinfo, host, repository = ''] = match as unknown as [string, string | undefined, string, string | undefined];
  const display = repository === '' ? `oci://${host}` : `oci://${host}/${repository}`;
  checkRepositoryPrefix(repository, display);
  const credentials = userinfo ? userinfoCredentials(userinfo) : undefined;
  return { host: host.toLowerCase(), hostname: host.replace(/:\d+$/, ''), repository, display, ...(credentials ? { credentials } : {}) };
}

function userinfoCredentials(userinfo: string): OciCredentials {
  const colon = userinfo.indexOf(':');
  if (colon === -1) return { username: decodeURIComponent(userinfo), password: '' };
  return { username: decodeURIComponent(userinfo.slice(0, colon)), password: decodeURIComponent(userinfo.slice(colon + 1)) };
}

/** `http` on loopback or when asked for, `https` everywhere else. */
export function registryScheme(url: RegistryUrl, plainHttp: boolean): 'http' | 'https' {
  return plainHttp || LOOPBACK.test(url.hostname) ? 'http' : 'https';
}
