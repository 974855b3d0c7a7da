import { pluginFailure } from '@bentoport/plugin-kit';
import type { OciCredentials } from './docker-credentials.js';
import { COMPONENT, errorSummary, networkFailure } from './registry-failures.js';
import type { RegistryHttp } from './registry-http.js';
import type { RegistryResponse } from './registry-response.js';

interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/** What the authentication of one registry needs from its client. */
export interface AuthenticationOptions {
  /** `host[:port]`, for messages. */
  host: string;
  /** Looked up lazily, on the first challenge. */
  credentials: () => Promise<OciCredentials | undefined>;
  userAgent: string;
  http: RegistryHttp;
}

/** The state of the three ways registries authenticate: none, Basic, and bearer tokens per scope. */
export interface RegistryAuthentication {
  /** The `Authorization` header for a request needing `scope`, once a challenge said which kind. */
  authorization(scope: string): Promise<string | undefined>;
  /**
   * Answer a 401: remember Basic, or fetch a bearer token for `scope` from the challenge's realm.
   * True when the request should be sent again; false leaves the 401 as the answer.
   * @throws {BentoportError} ERR_AUTH when the token endpoint refuses the credentials, ERR_IO.
   */
  answerChallenge(response: RegistryResponse, scope: string, signal: AbortSignal | undefined): Promise<boolean>;
}

/** Parse `Bearer realm="…",service="…",scope="…"` (quoted values may hold commas). */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const scheme = (match[1] as string).toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  for (const part of (match[2] as string).matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[(part[1] as string).toLowerCase()] = part[2] !== undefined ? part[2].replace(/\\(.)/g, '$1') : (part[3] ?? '');
  }
  return { scheme, params };
}

function basicAuthorization(credentials: OciCredentials): string | undefined {
  if (credentials.username === undefined || credentials.password === undefined) return undefined;
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/**
 * A scoped token from the challenge's realm: an OAuth2 `refresh_token` grant for an identity
 * token, else `GET realm?service=&scope=` with Basic credentials (or none).
 */
async function fetchToken(options: AuthenticationOptions, challenge: Challenge, scopes: string[], signal: AbortSignal | undefined): Promise<string> {
  const realm = challenge.params.realm;
  if (!realm) throw pluginFailure(COMPONENT, 'ERR_AUTH', 'GET', options.host, 'bearer challenge without a realm');
  const credentials = (await options.credentials()) ?? {};
  const url = new URL(realm);
  const headers: Record<string, string> = { 'user-agent': options.userAgent };
  let response: RegistryResponse;
  try {
    if (credentials.identityToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.identityToken, client_id: 'bentoport' });
      if (challenge.params.service) form.set('service', challenge.params.service);
      form.set('scope', scopes.join(' '));
      const init = { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() };
      response = await options.http.send(url.href, { ...init, signal });
    } else {
      if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
      for (const scope of scopes) url.searchParams.append('scope', scope);
      const basic = basicAuthorization(credentials);
      if (basic) headers.authorization = basic;
      response = await options.http.send(url.href, { method: 'GET', headers, signal });
    }
  } catch (error) {
    throw networkFailure(error, 'GET', realm);
  }
  return tokenOf(response, realm);
}

/** The token in a token endpoint's answer. */
async function tokenOf(response: RegistryResponse, realm: string): Promise<string> {
  if (response.status === 401 || response.status === 403) {
    const summary = await errorSummary(response);
    throw pluginFailure(COMPONENT, 'ERR_AUTH', 'token', realm, `${response.status} ${response.statusText}: credentials refused${summary ? ` (${summary})` : ''}`);
  }
  if (!response.ok) throw pluginFailure(COMPONENT, 'ERR_IO', 'token', realm, `${response.status} ${response.statusText}`);
  const body = (await response.json()) as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  if (!token) throw pluginFailure(COMPONENT, 'ERR_AUTH', 'token', realm, 'the answer holds no token');
  return token;
}

/**
 * Authentication for one registry host. The first 401 says which scheme the registry wants; Basic
 * credentials are then sent with every request, bearer tokens are fetched per scope and cached.
 */
export function registryAuthentication(options: AuthenticationOptions): RegistryAuthentication {
  let mode: Challenge | undefined;
  let credentialsLoaded: Promise<OciCredentials | undefined> | undefined;
  const tokens = new Map<string, string>();
  const cachedOptions: AuthenticationOptions = { ...options, credentials: () => (credentialsLoaded ??= options.credentials()) };

  return {
    async authorization(scope) {
      if (!mode) return undefined;
      if (mode.scheme === 'bearer') {
        const token = tokens.get(scope);
        return token ? `Bearer ${token}` : undefined;
      }
      const credentials = await cachedOptions.credentials();
      return credentials ? basicAuthorization(credentials) : undefined;
    },
    async answerChallenge(response, scope, signal) {
      const challenge = parseChallenge(response.headers.get('www-authenticate'));
      if (!challenge) return false;
      await response.discard();
      if (challenge.scheme === 'basic') {
        if (mode?.scheme === 'basic') return false; // our credentials were refused
        const credentials = await cachedOptions.credentials();
        if (!credentials || !basicAuthorization(credentials)) return false;
        mode = challenge;
        return true;
      }
      mode = challenge;
      const scopes = [...new Set([...scope.split(' '), ...(challenge.params.scope ? challenge.params.scope.split(' ') : [])])];
      tokens.set(scope, await fetchToken(cachedOptions, challenge, scopes, signal));
      return true;
    },
  };
}
