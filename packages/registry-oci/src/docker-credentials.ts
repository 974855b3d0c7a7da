import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { BentoportError } from '@bentoport/spec';

/** Registry credentials: a user name and password (or token), or an identity token for the bearer flow. */
export interface OciCredentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (`identitytoken` in docker's config), exchanged at the token endpoint. */
  identityToken?: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** The keys docker's config may use for one registry host. */
function hostKeys(host: string): string[] {
  const keys = [host, `https://${host}`, `http://${host}`, `https://${host}/v1/`, `https://${host}/v2/`];
  if (host === 'docker.io' || host === 'registry-1.docker.io') keys.push('https://index.docker.io/v1/', 'index.docker.io');
  return keys;
}

/**
 * Run `docker-credential-<helper> get` with the server URL on stdin: docker's documented
 * credential-helper protocol (the one program this plugin ever runs, and only when the user's
 * docker config names a helper). Answers `{ Username, Secret }`; `<token>` as user name means
 * `Secret` is an identity token.
 */
async function fromHelper(helper: string, server: string, timeoutMs: number): Promise<OciCredentials | undefined> {
  if (!/^[A-Za-z0-9._-]+$/.test(helper)) return undefined;
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${helper}`, ['get'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new BentoportError('ERR_AUTH', `[registry-oci] credential helper docker-credential-${helper} could not run: ${error.message}`, { cause: error }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        // "credentials not found in native keychain" is not an error: fall back to anonymous.
        if (/not found/i.test(stdout + stderr)) return resolve(undefined);
        return reject(new BentoportError('ERR_AUTH', `[registry-oci] docker-credential-${helper} get ${server} failed (exit ${String(code)}): ${stderr.trim() || stdout.trim()}`));
      }
      try {
        const answer = JSON.parse(stdout) as { Username?: string; Secret?: string };
        if (!answer.Secret) return resolve(undefined);
        resolve(answer.Username === '<token>' ? { identityToken: answer.Secret } : { username: answer.Username ?? '', password: answer.Secret });
      } catch (error) {
        reject(new BentoportError('ERR_AUTH', `[registry-oci] docker-credential-${helper} answered something that is not JSON`, { cause: error }));
      }
    });
    child.stdin.end(server);
  });
}

/** Where docker keeps its config: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv): string {
  return path.join(env.DOCKER_CONFIG ?? path.join(env.HOME ?? homedir(), '.docker'), 'config.json');
}

/**
 * Credentials for `host` from docker's config: `credHelpers[host]`, then `auths[host]`
 * (`auth` = base64 `user:password`, or `username`/`password`, or `identitytoken`), then
 * `credsStore`. Undefined when none applies.
 */
export async function dockerCredentials(host: string, configPath: string, helperTimeoutMs = 30_000): Promise<OciCredentials | undefined> {
  let config: DockerConfig;
  try {
    config = JSON.parse(await readFile(configPath, 'utf8')) as DockerConfig;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BentoportError('ERR_AUTH', `[registry-oci] cannot read docker config ${configPath}: ${(error as Error).message}`, { cause: error });
  }
  const keys = hostKeys(host);
  for (const key of keys) {
    const helper = config.credHelpers?.[key];
    if (helper) return fromHelper(helper, host, helperTimeoutMs);
  }
  for (const key of keys) {
    const entry = config.auths?.[key];
    if (!entry) continue;
    if (entry.identitytoken) return { identityToken: entry.identitytoken };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
  }
  if (config.credsStore) return fromHelper(config.credsStore, host, helperTimeoutMs);
  return undefined;
}
