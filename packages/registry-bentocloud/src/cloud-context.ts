import { readFileSync } from 'node:fs';
import path from 'node:path';
import { bentomlHome } from '@bentoport/plugin-kit';
import { BentoportError } from '@bentoport/spec';
import { parse as parseYaml } from 'yaml';

/** The BentoCloud account one registry instance talks to. */
export interface CloudContext {
  /** The context's name in `.yatai.yaml`, or `BENTO_CLOUD_API_KEY` / `options` for the other sources. */
  name: string;
  /** API endpoint without a trailing slash: `https://cloud.bentoml.com`. */
  endpoint: string;
  apiToken: string;
}

export interface ContextSources {
  home?: string;
  context?: string;
  endpoint?: string;
  apiToken?: string;
  env: NodeJS.ProcessEnv;
}

const DEFAULT_ENDPOINT = 'https://cloud.bentoml.com';

function trimEndpoint(endpoint: string): string {
  return endpoint.replace(/\/+$/, '');
}

/** `$BENTOML_HOME/.yatai.yaml`, where `bentoml cloud login` keeps its contexts. */
export function yataiConfigPath(sources: Pick<ContextSources, 'home' | 'env'>): string {
  return path.join(sources.home ?? bentomlHome(sources.env), '.yatai.yaml');
}

/**
 * The context to use, as BentoML picks it: explicit `apiToken` (+ `endpoint`) first
 * (a library caller's choice), then `BENTO_CLOUD_API_KEY` (+ `BENTO_CLOUD_API_ENDPOINT`), which
 * BentoML lets override everything, then `.yatai.yaml`: the `context` option, else
 * `BENTOML_CLOUD_CONTEXT`, else `current_context_name`, else `default`.
 * @throws {BentoportError} ERR_AUTH when no credentials are configured at all;
 * ERR_INVALID_OPTION for an unknown context name or a malformed `.yatai.yaml`.
 */
export function resolveCloudContext(sources: ContextSources): CloudContext {
  if (sources.apiToken !== undefined && sources.apiToken !== '') {
    return { name: 'options', endpoint: trimEndpoint(sources.endpoint ?? DEFAULT_ENDPOINT), apiToken: sources.apiToken };
  }
  const envKey = sources.env.BENTO_CLOUD_API_KEY;
  if (envKey !== undefined && envKey !== '') {
    return { name: 'BENTO_CLOUD_API_KEY', endpoint: trimEndpoint(sources.env.BENTO_CLOUD_API_ENDPOINT || DEFAULT_ENDPOINT), apiToken: envKey };
  }
  const file = yataiConfigPath(sources);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new BentoportError(
      'ERR_AUTH',
      `[registry-bentocloud] no BentoCloud credentials: ${file} does not exist and BENTO_CLOUD_API_KEY is not set (run \`bentoml cloud login\`)`,
    );
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new BentoportError('ERR_INVALID_OPTION', `[registry-bentocloud] ${file} is not valid yaml: ${(error as Error).message}`, { cause: error });
  }
  const config = (typeof document === 'object' && document !== null ? document : {}) as Record<string, unknown>;
  const wanted = sources.context || sources.env.BENTOML_CLOUD_CONTEXT || (typeof config.current_context_name === 'string' ? config.current_context_name : '') || 'default';
  const contexts = Array.isArray(config.contexts) ? (config.contexts as unknown[]) : [];
  const found = contexts.find((context): context is Record<string, unknown> => typeof context === 'object' && context !== null && (context as Record<string, unknown>).name === wanted);
  if (!found) {
    const known = contexts.map((context) => (context as Record<string, unknown> | null)?.name).filter((name) => typeof name === 'string');
    throw new BentoportError(
      'ERR_INVALID_OPTION',
      `[registry-bentocloud] No cloud context ${wanted} found in ${file}${known.length > 0 ? ` (it has: ${known.join(', ')})` : ''}`,
    );
  }
  const endpoint = found.endpoint;
  const apiToken = found.api_token;
  if (typeof endpoint !== 'string' || endpoint === '' || typeof apiToken !== 'string' || apiToken === '') {
    throw new BentoportError('ERR_INVALID_OPTION', `[registry-bentocloud] cloud context ${wanted} in ${file} lacks an endpoint or an api_token`);
  }
  return { name: wanted, endpoint: trimEndpoint(endpoint), apiToken };
}
