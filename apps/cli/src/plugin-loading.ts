import { pathToFileURL } from 'node:url';
import {
  apiVersion,
  bentoportConfigPath,
  checkManifestApiVersion,
  missingPluginDetails,
  pluginFromModule,
  pluginLoadError,
  servedNames,
  unsupportedFormatError,
  unsupportedProtocolError,
  unsupportedRegistryError,
  type Format,
  type PluginKind,
  type PluginOfKind,
  type ProgressListener,
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
 * Import a discovered plugin package's main entry.
 * @throws {BentoportError} ERR_INVALID_OPTION naming the package and what to do when the import fails.
 */
async function importPluginModule(plugin: DiscoveredPlugin): Promise<Record<string, unknown>> {
  const entry = packageEntry(plugin.directory, plugin.packageJson);
  try {
    return (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  } catch (error) {
    throw pluginLoadError(plugin, `import ${entry}`, error);
  }
}

/**
 * Import a discovered plugin package and make its plugin. Transports and formats get `{ env }`;
 * registries get their address and the CLI's registry flags (see registry-commands.ts).
 * @throws {BentoportError} ERR_INVALID_OPTION when its module fails to import or its factory throws.
 */
export async function loadPlugin<K extends PluginKind>(plugin: DiscoveredPlugin, kind: K, options: Record<string, unknown>): Promise<PluginOfKind<K>> {
  checkManifestApiVersion(plugin);
  return pluginFromModule(plugin, kind, await importPluginModule(plugin), options);
}

/**
 * Why a plugin built for this contract fails to load, or undefined when it loads, for `bentoport
 * plugins`. A registry is only imported: its factory needs the address a command gives it.
 */
export async function loadFailure(plugin: DiscoveredPlugin, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    if (plugin.manifest.kind === 'registry') await importPluginModule(plugin);
    else await loadPlugin(plugin, plugin.manifest.kind, { env });
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * `plugins` in the catalog's precedence order, whatever order they were picked in: core uses
 * the first plugin that serves a name, so a plugin loaded for one target must not come before a
 * higher-precedence one that serves the same name.
 */
function inPrecedenceOrder(catalog: PluginCatalog, plugins: ReadonlySet<DiscoveredPlugin>): DiscoveredPlugin[] {
  return catalog.plugins.filter((plugin) => plugins.has(plugin));
}

/**
 * The transport for each protocol, each package loaded once, in precedence order.
 * @throws {BentoportError} ERR_UNSUPPORTED_PROTOCOL for a protocol no installed transport serves.
 */
export async function loadTransports(catalog: PluginCatalog, targets: ReadonlyArray<{ protocol: string; display: string }>, env: NodeJS.ProcessEnv): Promise<Transport[]> {
  const plugins = new Set<DiscoveredPlugin>();
  for (const { protocol, display } of targets) {
    const plugin = pluginServing(catalog, 'transport', protocol);
    if (plugin === undefined) throw unsupportedProtocolError(protocol, display, servedByKind(catalog, 'transport'));
    plugins.add(plugin);
  }
  return Promise.all(inPrecedenceOrder(catalog, plugins).map((plugin) => loadPlugin(plugin, 'transport', { env })));
}

/** Every format plugin built for this contract that serves a token no earlier one does. */
function sniffingFormats(catalog: PluginCatalog): Set<DiscoveredPlugin> {
  const plugins = new Set<DiscoveredPlugin>();
  const covered = new Set<string>();
  for (const plugin of pluginsOfKind(catalog, 'format')) {
    const names = servedNames(plugin.manifest);
    if (plugin.manifest.apiVersion !== apiVersion || names.every((name) => covered.has(name))) continue;
    names.forEach((name) => covered.add(name));
    plugins.add(plugin);
  }
  return plugins;
}

/**
 * The format plugins for the given tokens, in precedence order, or for `'all'` every one built
 * for this contract that serves a token no earlier one does (an import that sniffs the bytes
 * needs them all). With `'all'`, a plugin that fails to load is left out with a warning to
 * `onProgress`, so one broken package does not stop imports it has nothing to do with.
 * @throws {BentoportError} ERR_UNSUPPORTED_FORMAT for a token no installed format serves;
 * ERR_INVALID_OPTION when the plugin of a named token fails to load.
 */
export async function loadFormats(catalog: PluginCatalog, tokens: readonly string[] | 'all', env: NodeJS.ProcessEnv, onProgress?: ProgressListener): Promise<Format[]> {
  if (tokens === 'all') {
    const plugins = inPrecedenceOrder(catalog, sniffingFormats(catalog));
    const settled = await Promise.allSettled(plugins.map((plugin) => loadPlugin(plugin, 'format', { env })));
    return settled.flatMap((result, index) => {
      if (result.status === 'fulfilled') return [result.value];
      const plugin = plugins[index] as DiscoveredPlugin;
      const reason = result.reason instanceof Error ? result.reason.message : String(result.reason);
      onProgress?.({ type: 'warning', operation: 'import', message: `format plugin ${plugin.name}@${plugin.version} skipped for sniffing: ${reason}` });
      return [];
    });
  }
  const plugins = new Set<DiscoveredPlugin>();
  for (const token of tokens) {
    const plugin = pluginServing(catalog, 'format', token);
    if (plugin === undefined) throw unsupportedFormatError(token, servedByKind(catalog, 'format'));
    plugins.add(plugin);
  }
  return Promise.all(inPrecedenceOrder(catalog, plugins).map((plugin) => loadPlugin(plugin, 'format', { env })));
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
