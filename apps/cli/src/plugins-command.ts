import { apiVersion, servedNames } from '@bentoport/core';
import type { DiscoveredPlugin, PluginCatalog } from './plugin-discovery.js';
import { pluginServing } from './plugin-loading.js';
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

function notesOf(plugin: DiscoveredPlugin, catalog: PluginCatalog): string[] {
  if (plugin.manifest.apiVersion !== apiVersion) return [`built for apiVersion ${plugin.manifest.apiVersion}, this bentoport speaks ${apiVersion}: not used`];
  const elsewhere = servedNames(plugin.manifest).filter((name) => pluginServing(catalog, plugin.manifest.kind, name) !== plugin);
  return elsewhere.length === 0 ? [] : [`${elsewhere.join(', ')} served by an earlier package`];
}

/** The installed plugins, in the order the CLI prefers them. */
export function pluginRows(catalog: PluginCatalog): PluginRow[] {
  return catalog.plugins.map((plugin) => ({
    kind: plugin.manifest.kind,
    serves: [...servedNames(plugin.manifest)],
    package: plugin.name,
    version: plugin.version,
    apiVersion: plugin.manifest.apiVersion,
    source: plugin.source,
    directory: plugin.directory,
    notes: notesOf(plugin, catalog),
  }));
}

/** `bentoport plugins` as a table: one row a package. */
export function renderPluginTable(rows: PluginRow[]): string {
  return renderTable(
    ['Kind', 'Serves', 'Package', 'Version', 'Found in', 'Notes'],
    rows.map((row) => [row.kind, row.serves.join(', '), row.package, row.version, row.source, row.notes.join('; ')]),
  );
}
