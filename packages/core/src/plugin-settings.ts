import path from 'node:path';
import { BentoportError } from '@bentoport/spec';
import { readConfigFile } from './config-file.js';
import { bentoportConfigPath } from './push-pull.js';

/** Plugin packages named explicitly in one place. */
export interface PluginListSetting {
  /** `BENTOPORT_PLUGINS`, or the config file's path. */
  source: string;
  /**
   * What a relative package directory is relative to: the current directory for
   * `BENTOPORT_PLUGINS`, the file's own directory for the config file.
   */
  baseDirectory: string;
  /** Package names (`bentoport-transport-kv`, `@acme/bentoport-format-zstd`) or package directories (`./plugins/kv`, `/opt/kv`). */
  entries: string[];
}

/**
 * The plugin packages named explicitly: `BENTOPORT_PLUGINS` (comma-separated) first, then the
 * `plugins:` list of the config file ({@link bentoportConfigPath}). A host loads these beside
 * the plugins it finds installed, and before them when two serve the same name.
 * @example
 * ```yaml
 * # ~/.config/bentoport/config.yaml
 * registry: oci://ghcr.io/acme/bentos
 * plugins:
 *   - bentoport-transport-kv
 *   - ./plugins/bentoport-format-zstd
 * ```
 * @throws {BentoportError} ERR_INVALID_OPTION when the config file is not a yaml mapping or `plugins` is not a list of strings.
 */
export async function readPluginSettings(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Promise<PluginListSetting[]> {
  const settings: PluginListSetting[] = [];
  const fromEnv = (env.BENTOPORT_PLUGINS ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (fromEnv.length > 0) settings.push({ source: 'BENTOPORT_PLUGINS', baseDirectory: cwd, entries: fromEnv });
  const file = bentoportConfigPath(env);
  const plugins = (await readConfigFile(file))?.plugins;
  if (plugins === undefined || plugins === null) return settings;
  if (!Array.isArray(plugins) || !plugins.every((entry) => typeof entry === 'string' && entry.trim() !== '')) {
    throw new BentoportError('ERR_INVALID_OPTION', `${file}: 'plugins' must be a list of package names or package directories`);
  }
  settings.push({ source: file, baseDirectory: path.dirname(file), entries: plugins.map((entry: string) => entry.trim()) });
  return settings;
}
