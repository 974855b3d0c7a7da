import { LOCAL_STORE, NATIVE_FORMAT, resolveExportTarget, resolveImportSource, resolveLocation, type Format, type Location, type ProgressListener, type Registry, type Transport } from '@bentoport/core';
import type { CommandName, Group, OptionValues } from './command-line.js';
import { targetOptions } from './commands.js';
import type { PluginCatalog } from './plugin-discovery.js';
import { loadFormats, loadTransports } from './plugin-loading.js';
import { registriesFor } from './registry-commands.js';
import { isRemoteStoreArgument } from './remote-store-commands.js';
import { isArchiveArgument } from './signing-commands.js';

/** The plugin instances one command runs with. */
export interface CommandPlugins {
  formats: Format[];
  transports: Transport[];
  registries: Registry[];
}

export interface CommandPluginRequest {
  group: Group;
  command: CommandName;
  positionals: readonly string[];
  values: OptionValues;
  env: NodeJS.ProcessEnv;
  /** Relative targets resolve against it, as core resolves them. */
  cwd: string;
  /** Finds the installed plugins; called only by a command that needs one. */
  catalog(): Promise<PluginCatalog>;
  /** Receives a warning for each format plugin left out of sniffing because it fails to load. */
  onProgress?: ProgressListener;
}

/** What an export or import needs: the transport of its target (none for stdin/stdout), and its format tokens. */
interface TransferNeeds {
  target?: Location;
  /** Several places, for a sync. @default undefined */
  targets?: Location[];
  /** `'all'` when the archive's bytes decide (an import without --format). */
  formats: string[] | 'all';
}

const stringOption = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

async function exportNeeds(request: CommandPluginRequest): Promise<TransferNeeds> {
  const kind = request.group === 'models' ? 'model' : 'bento';
  const out = request.positionals[1] ?? '.';
  const format = stringOption(request.values.format);
  if (out === '-') return { formats: [format ?? NATIVE_FORMAT[kind]] };
  // Core's own resolution, so that the protocol and the format are the ones the export will use.
  // The item's name and version (and whether OUT is a directory) only shape a default file name.
  const resolved = await resolveExportTarget({
    target: out,
    format,
    options: targetOptions(request.values, 'export'),
    kind,
    name: 'item',
    version: 'version',
    cwd: request.cwd,
    isLocalDirectory: async () => false,
  });
  return { target: resolved.location, formats: resolved.format === 'folder' ? [] : [resolved.format] };
}

function importNeeds(request: CommandPluginRequest): TransferNeeds {
  const kind = request.group === 'models' ? 'model' : 'bento';
  const source = request.positionals[0] ?? '-';
  const format = stringOption(request.values.format);
  // Core reads a folder itself, from a local path, without a transport or a codec.
  if (format === 'folder') return { formats: [] };
  const formats = format === undefined ? 'all' : [format];
  if (source === '-') return { formats };
  return { target: resolveImportSource(source, format, targetOptions(request.values, 'import'), kind, request.cwd).location, formats };
}

/**
 * What a command on remote stores needs (`sync`, and `list URL`, `get URL/TAG`, `import URL
 * --tag`): the transport of each store, and every codec that loads, since the archives a store
 * already holds may be in any format.
 */
function remoteStoreNeeds(request: CommandPluginRequest): TransferNeeds | undefined {
  const [first, second] = request.positionals;
  let stores: string[] = [];
  if (request.command === 'sync') stores = [first, second].filter((store): store is string => store !== undefined && store !== LOCAL_STORE);
  else if ((request.command === 'list' || request.command === 'get') && isRemoteStoreArgument(first)) stores = [first as string];
  else if (request.command === 'import' && stringOption(request.values.tag) !== undefined && first !== undefined) stores = [first];
  if (stores.length === 0 && request.command !== 'sync') return undefined;
  return { targets: stores.map((store) => resolveLocation(store, request.cwd)), formats: 'all' };
}

/**
 * The plugins a command needs, and only those: `list`, `get` and `delete` none (not even a look
 * for them); `export` the transport of OUT and the codec of its format; `import` the transport of
 * PATH and every codec that loads (the bytes name the format) unless --format names one; `push` and `pull`
 * the registry of the configured address.
 *
 * Why not all of them: importing every plugin costs ~250 ms before anything happens and leaves
 * ~10 MiB more on the heap (the AWS SDK and undici alone: 4 MiB each). Every full garbage
 * collection walks that heap, and a transfer triggers one every few megabytes it allocates, so
 * a 1 GiB SFTP export ran 5.2 s with every plugin loaded against 4.6 s with its own.
 */
export async function pluginsForCommand(request: CommandPluginRequest): Promise<CommandPlugins> {
  const plugins: CommandPlugins = { formats: [], transports: [], registries: [] };
  const remote = remoteStoreNeeds(request);
  if (remote) {
    const catalog = await request.catalog();
    plugins.transports = await loadTransports(catalog, remote.targets ?? [], request.env);
    plugins.formats = await loadFormats(catalog, remote.formats, request.env, request.onProgress);
    return plugins;
  }
  // `verify ARCHIVE|URL` reads an archive as an import does.
  const verifiesArchive = request.command === 'verify' && isArchiveArgument(request.positionals[0] ?? '');
  if (request.command === 'export' || request.command === 'import' || verifiesArchive) {
    const needs = request.command === 'export' ? await exportNeeds(request) : importNeeds(request);
    const catalog = await request.catalog();
    plugins.transports = await loadTransports(catalog, needs.target === undefined ? [] : [needs.target], request.env);
    plugins.formats = await loadFormats(catalog, needs.formats, request.env, request.onProgress);
  }
  if (request.command === 'push' || request.command === 'pull') plugins.registries = await registriesFor(request.values, request.env, request.catalog, request.positionals);
  return plugins;
}
