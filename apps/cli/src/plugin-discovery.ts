import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { BentoportError, readPluginManifest, readPluginSettings, type PluginListSetting, type PluginPackage } from '@bentoport/core';

/** A plugin package found on disk; nothing of it is imported yet. */
export interface DiscoveredPlugin extends PluginPackage {
  /** The package's directory, symlinks resolved. */
  directory: string;
  /** The parsed package.json, for its entry point. */
  packageJson: Record<string, unknown>;
  /** Where it was found: `BENTOPORT_PLUGINS`, the config file's path, `project` or `bentoport`. */
  source: string;
}

/** A package whose name says plugin but whose declaration is broken: shown by `bentoport plugins`, never loaded. */
export interface SkippedPackage {
  directory: string;
  reason: string;
}

/** Every plugin package found, in precedence order (the first that serves a name wins), one per package name. */
export interface PluginCatalog {
  plugins: DiscoveredPlugin[];
  skipped: SkippedPackage[];
}

export interface DiscoveryOptions {
  env: NodeJS.ProcessEnv;
  /** Project-local plugins are looked for in node_modules from here upward. */
  cwd: string;
  /** The CLI's own directory: its node_modules and those above it hold the plugins installed beside it. */
  cliDirectory: string;
}

/**
 * Package names the CLI looks at without being told: `bentoport-<kind>-<name>`, in any scope, and
 * `@bentoport/<kind>-<name>`. Reading only these keeps discovery to a few file reads in a
 * node_modules of thousands; a package named otherwise is loaded when listed in `plugins:`.
 */
const PLUGIN_PACKAGE_NAME = /^(?:@[^/]+\/)?bentoport-(?:transport|format|registry)-[^/]+$|^@bentoport\/(?:transport|format|registry)-[^/]+$/;

/** The node_modules directories Node searches from `start`: its own, then each parent's. */
export function nodeModulesChain(start: string): string[] {
  const chain: string[] = [];
  let directory = path.resolve(start);
  while (true) {
    if (path.basename(directory) !== 'node_modules') chain.push(path.join(directory, 'node_modules'));
    const parent = path.dirname(directory);
    if (parent === directory) return chain;
    directory = parent;
  }
}

async function directoryNames(directory: string): Promise<string[]> {
  try {
    return (await readdir(directory, { withFileTypes: true })).filter((entry) => entry.isDirectory() || entry.isSymbolicLink()).map((entry) => entry.name);
  } catch {
    return [];
  }
}

/** The plugin-named packages directly in one node_modules directory, as `name` → directory. */
async function pluginNamedPackages(nodeModules: string): Promise<Array<{ name: string; directory: string }>> {
  const found: Array<{ name: string; directory: string }> = [];
  // Sorted: the order decides which of two plugins serving one name wins, so it must not depend on the file system.
  for (const entry of (await directoryNames(nodeModules)).sort()) {
    const names = entry.startsWith('@') ? (await directoryNames(path.join(nodeModules, entry))).sort().map((inner) => `${entry}/${inner}`) : [entry];
    for (const name of names) if (PLUGIN_PACKAGE_NAME.test(name)) found.push({ name, directory: path.join(nodeModules, name) });
  }
  return found;
}

/** The package.json of a directory, or undefined when there is none. */
async function readPackageJson(directory: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path.join(directory, 'package.json'), 'utf8');
  } catch {
    return undefined;
  }
  return JSON.parse(text) as unknown;
}

/** The plugin a package directory declares, or undefined when it declares none. Throws what is wrong with it. */
async function pluginAt(directory: string, source: string): Promise<DiscoveredPlugin | undefined> {
  const packageJson = await readPackageJson(directory);
  if (packageJson === undefined) return undefined;
  const declared = readPluginManifest(packageJson, path.join(directory, 'package.json'));
  if (declared === undefined) return undefined;
  return { ...declared, directory: await realpath(directory), packageJson: packageJson as Record<string, unknown>, source };
}

function isPathEntry(entry: string): boolean {
  return entry.startsWith('.') || entry.startsWith('~') || path.isAbsolute(entry);
}

/** The directory an explicit entry names: a path (relative to its setting's base), or a package found in `searchPath`. */
async function explicitDirectory(entry: string, setting: PluginListSetting, searchPath: string[], env: NodeJS.ProcessEnv): Promise<string> {
  if (isPathEntry(entry)) {
    const expanded = entry === '~' || entry.startsWith('~/') ? path.join(env.HOME ?? homedir(), entry.slice(1)) : entry;
    return path.resolve(setting.baseDirectory, expanded);
  }
  for (const nodeModules of searchPath) {
    const candidate = path.join(nodeModules, entry);
    if (await stat(path.join(candidate, 'package.json')).then(() => true, () => false)) return candidate;
  }
  throw new BentoportError(
    'ERR_INVALID_OPTION',
    `[plugins] ${setting.source}: plugin package '${entry}' is not installed in a node_modules from the current directory upward nor beside bentoport (npm i -g ${entry})`,
  );
}

/** The explicitly listed plugins: each must exist and declare a plugin, or the command fails saying which. */
async function explicitPlugins(settings: PluginListSetting[], searchPath: string[], env: NodeJS.ProcessEnv): Promise<DiscoveredPlugin[]> {
  const plugins: DiscoveredPlugin[] = [];
  for (const setting of settings) {
    for (const entry of setting.entries) {
      const directory = await explicitDirectory(entry, setting, searchPath, env);
      let plugin: DiscoveredPlugin | undefined;
      try {
        plugin = await pluginAt(directory, setting.source);
      } catch (error) {
        throw new BentoportError('ERR_INVALID_OPTION', `[plugins] ${setting.source}: ${entry}: ${(error as Error).message}`, { cause: error });
      }
      if (plugin === undefined) {
        const where = directory === entry ? entry : `${entry} (${directory})`;
        throw new BentoportError('ERR_INVALID_OPTION', `[plugins] ${setting.source}: ${where} has no package.json with a "bentoport" plugin declaration`);
      }
      plugins.push(plugin);
    }
  }
  return plugins;
}

/**
 * Find the plugin packages this command may use, reading package.json files only. Precedence,
 * first wins: `BENTOPORT_PLUGINS`, then `plugins:` in the config file, then node_modules from the
 * current directory upward (a project's own plugins), then the node_modules beside the CLI (a
 * global `npm i -g @bentoport/cli bentoport-transport-foo`, and the CLI's own dependencies).
 */
export async function discoverPlugins(options: DiscoveryOptions): Promise<PluginCatalog> {
  const { env, cwd, cliDirectory } = options;
  const project = nodeModulesChain(cwd);
  const beside = nodeModulesChain(cliDirectory).filter((directory) => !project.includes(directory));
  const found = await explicitPlugins(await readPluginSettings(env, cwd), [...project, ...beside], env);
  const skipped: SkippedPackage[] = [];
  for (const [source, chain] of [
    ['project', project],
    ['bentoport', beside],
  ] as const) {
    for (const nodeModules of chain) {
      for (const candidate of await pluginNamedPackages(nodeModules)) {
        try {
          const plugin = await pluginAt(candidate.directory, source);
          if (plugin) found.push(plugin);
        } catch (error) {
          skipped.push({ directory: candidate.directory, reason: (error as Error).message });
        }
      }
    }
  }
  const names = new Set<string>();
  const directories = new Set<string>();
  const plugins = found.filter((plugin) => {
    if (names.has(plugin.name) || directories.has(plugin.directory)) return false;
    names.add(plugin.name);
    directories.add(plugin.directory);
    return true;
  });
  return { plugins, skipped };
}
