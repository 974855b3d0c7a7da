import { pathToFileURL } from 'node:url';
import {
  apiVersion,
  bentoportConfigPath,
  BentoportError,
  checkManifestApiVersion,
  missingPluginDetails,
  pluginFromModule,
  servedNames,
  unsupportedFormatError,
  unsupportedProtocolError,
  unsupportedRegistryError,
  type Format,
  type PluginKind,
  type PluginOfKind,
  type Registry,
  type Transport,
} from '@bentoport/core';
import { packageEntry } from './package-entry.js';
import type { DiscoveredPlugin, PluginCatalog } from './plugin-discovery.js';

/** The plugins of one kind, in precedence order. */
function pluginsOfKind(catalog: PluginCatalog, kind: PluginKind): DiscoveredPlugin[] {
  return catalog.plugins.filter((plugin) => plugin.manifest.kind === kind);
}

/** What the installed plugins of a kind serve, for messages. */
export function servedByKind(catalog: PluginCatalog, kind: PluginKind): string[] {
  return [...new Set(pluginsOfKind(catalog, kind).flatMap((plugin) => servedNames(plugin.manifest)))];
}

/**
 * The plugin that serves `name`: the first built for this contract version, else the first at all
 * (loading it then says which version it needs), else undefined.
 */
export function pluginServing(catalog: PluginCatalog, kind: PluginKind, name: string): DiscoveredPlugin | undefined {
  const candidates = pluginsOfKind(catalog, kind).filter((plugin) => servedNames(plugin.manifest).includes(name));
  return candidates.find((plugin) => plugin.manifest.apiVersion === apiVersion) ?? candidates[0];
}

/**
 * Import a discovered plugin package and make its plugin. Transports and formats get `{ env }`;
 * registries get their address and the CLI's registry flags (see registry-commands.ts).
 */
export async function loadPlugin<K extends PluginKind>(plugin: DiscoveredPlugin, kind: K, options: Record<string, unknown>): Promise<PluginOfKind<K>> {
  checkManifestApiVersion(plugin);
  const entry = packageEntry(plugin.directory, plugin.packageJson);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  } catch (error) {
    throw new BentoportError('ERR_IO', `[plugins] IMPORT ${plugin.name}@${plugin.version} ${entry}: ${(error as Error).message}`, { cause: error });
  }
  return pluginFromModule(plugin, kind, module, options);
}

/**
 * The transport for each protocol, each package loaded once.
 * @throws {BentoportError} ERR_UNSUPPORTED_PROTOCOL for a protocol no installed transport serves.
 */
export async function loadTransports(catalog: PluginCatalog, targets: ReadonlyArray<{ protocol: string; display: string }>, env: NodeJS.ProcessEnv): Promise<Transport[]> {
  const plugins = new Set<DiscoveredPlugin>();
  for (const { protocol, display } of targets) {
    const plugin = pluginServing(catalog, 'transport', protocol);
    if (plugin === undefined) throw unsupportedProtocolError(protocol, display, servedByKind(catalog, 'transport'));
    plugins.add(plugin);
  }
  return Promise.all([...plugins].map((plugin) => loadPlugin(plugin, 'transport', { env })));
}

/**
 * The format plugins for the given tokens, or for `'all'` every one built for this contract that
 * serves a token no earlier one does (an import that sniffs the bytes needs them all).
 * @throws {BentoportError} ERR_UNSUPPORTED_FORMAT for a token no installed format serves.
 */
export async function loadFormats(catalog: PluginCatalog, tokens: readonly string[] | 'all', env: NodeJS.ProcessEnv): Promise<Format[]> {
  const plugins = new Set<DiscoveredPlugin>();
  if (tokens === 'all') {
    const covered = new Set<string>();
    for (const plugin of pluginsOfKind(catalog, 'format')) {
      const names = servedNames(plugin.manifest);
      if (plugin.manifest.apiVersion !== apiVersion || names.every((name) => covered.has(name))) continue;
      names.forEach((name) => covered.add(name));
      plugins.add(plugin);
    }
  } else {
    for (const token of tokens) {
      const plugin = pluginServing(catalog, 'format', token);
      if (plugin === undefined) throw unsupportedFormatError(token, servedByKind(catalog, 'format'));
      plugins.add(plugin);
    }
  }
  return Promise.all([...plugins].map((plugin) => loadPlugin(plugin, 'format', { env })));
}

/**
 * The registry plugin serving a registry address's scheme, made with `options`.
 * @throws {BentoportError} ERR_UNSUPPORTED_PROTOCOL for a scheme no installed registry serves.
 */
export async function loadRegistry(catalog: PluginCatalog, scheme: string, display: string, options: Record<string, unknown>): Promise<Registry> {
  const plugin = pluginServing(catalog, 'registry', scheme);
  if (plugin === undefined) throw unsupportedRegistryError(scheme, display, servedByKind(catalog, 'registry'));
  return loadPlugin(plugin, 'registry', options);
}

/**
 * How to add the plugin a "not served" error from core or this module misses, appended to its
 * message; undefined for any other error.
 */
export function installHint(error: unknown, env: NodeJS.ProcessEnv): string | undefined {
  const missing = missingPluginDetails(error);
  if (missing === undefined) return undefined;
  return `add one: npm i -g bentoport-${missing.kind}-${missing.name}, or name its package in BENTOPORT_PLUGINS or under 'plugins:' in ${bentoportConfigPath(env)} (see 'bentoport plugins')`;
}
