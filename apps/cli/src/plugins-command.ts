import { apiVersion, servedNames } from '@bentoport/core';
import type { DiscoveredPlugin, PluginCatalog } from './plugin-discovery.js';
import { loadFailure, pluginServing } from './plugin-loading.js';
import { renderTable } from './render.js';

/** One installed plugin, as `bentoport plugins --json` prints it. */
export interface PluginRow {
  kind: string;
  /** Protocols, format tokens or registry schemes. */
  serves: string[];
  package: string;
  version: string;
  apiVersion: number;
  /** `BENTOPORT_PLUGINS`, the config file, `project` (node_modules from the current directory up) or `bentoport` (beside the CLI). */
  source: string;
  directory: string;
  /** Why the plugin is not used, or not for everything it serves. */
  notes: string[];
}

/** Why each plugin built for this contract fails to load, for those that do. */
export async function loadFailures(catalog: PluginCatalog, env: NodeJS.ProcessEnv): Promise<Map<DiscoveredPlugin, string>> {
  const current = catalog.plugins.filter((plugin) => plugin.manifest.apiVersion === apiVersion);
  const failures = await Promise.all(current.map(async (plugin) => [plugin, await loadFailure(plugin, env)] as const));
  return new Map(failures.filter((entry): entry is readonly [DiscoveredPlugin, string] => entry[1] !== undefined));
}

function notesOf(plugin: DiscoveredPlugin, catalog: PluginCatalog, failures: ReadonlyMap<DiscoveredPlugin, string>): string[] {
  if (plugin.manifest.apiVersion !== apiVersion) return [`built for apiVersion ${plugin.manifest.apiVersion}, this bentoport speaks ${apiVersion}: not used`];
  const failure = failures.get(plugin);
  const elsewhere = servedNames(plugin.manifest).filter((name) => pluginServing(catalog, plugin.manifest.kind, name) !== plugin);
  return [...(failure === undefined ? [] : [`fails to load: ${failure}`]), ...(elsewhere.length === 0 ? [] : [`${elsewhere.join(', ')} served by an earlier package`])];
}

/** The installed plugins, in the order the CLI prefers them, with `failures` from {@link loadFailures}. */
export function pluginRows(catalog: PluginCatalog, failures: ReadonlyMap<DiscoveredPlugin, string> = new Map()): PluginRow[] {
  return catalog.plugins.map((plugin) => ({
    kind: plugin.manifest.kind,
    serves: [...servedNames(plugin.manifest)],
    package: plugin.name,
    version: plugin.version,
    apiVersion: plugin.manifest.apiVersion,
    source: plugin.source,
    directory: plugin.directory,
    notes: notesOf(plugin, catalog, failures),
  }));
}

/** `bentoport plugins` as a table: one row a package. */
export function renderPluginTable(rows: PluginRow[]): string {
  return renderTable(
    ['Kind', 'Serves', 'Package', 'Version', 'Found in', 'Notes'],
    rows.map((row) => [row.kind, row.serves.join(', '), row.package, row.version, row.source, row.notes.join('; ')]),
  );
}
