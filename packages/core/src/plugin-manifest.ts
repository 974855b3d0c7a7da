import { apiVersion, BentoportError, type Format, type Registry, type Transport } from '@bentoport/spec';
import { checkApiVersion, type PluginKind } from './plugins.js';

/** The package.json field in which a plugin package declares itself. */
export const MANIFEST_FIELD = 'bentoport';

interface ManifestCommon {
  /**
   * The `apiVersion` of `@bentoport/spec` the plugin was built against. A host refuses another one
   * from the manifest alone, before importing anything.
   */
  apiVersion: number;
  /** The named export of the package's main entry that makes the plugin from one options object: `kvTransport`. */
  factory: string;
}

/** `"bentoport": { "apiVersion": 1, "kind": "transport", "factory": "kvTransport", "protocols": ["kv"] }` */
export interface TransportManifest extends ManifestCommon {
  kind: 'transport';
  /** The URL schemes the transport serves, lower case; its `protocols` must include them. */
  protocols: string[];
}

/** `"bentoport": { "apiVersion": 1, "kind": "format", "factory": "tarFormat", "formats": ["tar", "gz"] }` */
export interface FormatManifest extends ManifestCommon {
  kind: 'format';
  /** The format tokens the codec reads and writes; its `formats` must include them. */
  formats: string[];
}

/** `"bentoport": { "apiVersion": 1, "kind": "registry", "factory": "ociRegistry", "schemes": ["oci"] }` */
export interface RegistryManifest extends ManifestCommon {
  kind: 'registry';
  /** The URL schemes of the registry addresses it serves (`oci` for `oci://host/repository`). */
  schemes: string[];
}

/** The `bentoport` field of a plugin package's package.json. */
export type PluginManifest = TransportManifest | FormatManifest | RegistryManifest;

/** A package that declares a plugin. */
export interface PluginPackage {
  name: string;
  version: string;
  manifest: PluginManifest;
  /** Where the package is installed, named in messages about it when known. */
  directory?: string;
}

/** The plugin type a kind's factory returns. */
export type PluginOfKind<K extends PluginKind> = K extends 'transport' ? Transport : K extends 'format' ? Format : Registry;

/** The manifest field that lists what each kind serves. */
const SERVED_FIELD = { transport: 'protocols', format: 'formats', registry: 'schemes' } as const;

/** A URL scheme (RFC 3986, lower case) or a format token. */
const SERVED_NAME = /^[a-z0-9][a-z0-9+.-]*$/;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The protocols, format tokens or registry schemes a manifest declares. */
export function servedNames(manifest: PluginManifest): readonly string[] {
  switch (manifest.kind) {
    case 'transport':
      return manifest.protocols;
    case 'format':
      return manifest.formats;
    case 'registry':
      return manifest.schemes;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function manifestOf(field: Record<string, unknown>, keywords: unknown, mistake: (reason: string) => TypeError): PluginManifest {
  const { kind, factory } = field;
  if (kind !== 'transport' && kind !== 'format' && kind !== 'registry') throw mistake(`bentoport.kind must be 'transport', 'format' or 'registry'`);
  const version = field.apiVersion;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) throw mistake('bentoport.apiVersion must be a positive integer');
  if (typeof factory !== 'string' || !IDENTIFIER.test(factory)) throw mistake('bentoport.factory must name an exported function');
  const servedField = SERVED_FIELD[kind];
  const served = field[servedField];
  if (!Array.isArray(served) || served.length === 0 || !served.every((name) => typeof name === 'string' && SERVED_NAME.test(name))) {
    throw mistake(`bentoport.${servedField} must be a non-empty array of lower-case names`);
  }
  if (!Array.isArray(keywords) || !keywords.includes(`bentoport-${kind}`)) throw mistake(`keywords must include 'bentoport-${kind}'`);
  const common = { apiVersion: version, factory };
  const names = [...(served as string[])];
  if (kind === 'transport') return { ...common, kind, protocols: names };
  if (kind === 'format') return { ...common, kind, formats: names };
  return { ...common, kind, schemes: names };
}

/**
 * The plugin a package.json declares in its `bentoport` field, or undefined when it has none.
 * `where` (the file's path) names it in messages.
 * @throws {TypeError} when the declaration is malformed or the package lacks the keyword `bentoport-<kind>`:
 * the plugin author's mistake.
 */
export function readPluginManifest(packageJson: unknown, where: string): PluginPackage | undefined {
  if (!isRecord(packageJson)) throw new TypeError(`${where}: not a JSON object`);
  const field = packageJson[MANIFEST_FIELD];
  if (field === undefined) return undefined;
  const { name, version } = packageJson;
  const label = typeof name === 'string' && name !== '' ? `${where} (${name})` : where;
  const mistake = (reason: string) => new TypeError(`${label}: ${reason}`);
  if (typeof name !== 'string' || name === '') throw mistake('a plugin package needs a name');
  if (typeof version !== 'string' || version === '') throw mistake('a plugin package needs a version');
  if (!isRecord(field)) throw mistake('bentoport must be an object');
  return { name, version, manifest: manifestOf(field, packageJson.keywords, mistake) };
}

/**
 * Refuse a plugin package built for another contract version, from its manifest alone.
 * @throws {BentoportError} ERR_PLUGIN_VERSION when the manifest's apiVersion is not this core's.
 */
export function checkManifestApiVersion(pluginPackage: PluginPackage): void {
  const declared = pluginPackage.manifest.apiVersion;
  if (declared === apiVersion) return;
  throw new BentoportError(
    'ERR_PLUGIN_VERSION',
    `[plugins] LOAD ${pluginPackage.name}@${pluginPackage.version}: built for apiVersion ${declared}, this bentoport speaks ${apiVersion}; install a version of ${pluginPackage.name} built for apiVersion ${apiVersion}`,
    { details: { package: pluginPackage.name, apiVersion: declared } },
  );
}

/**
 * The error for a plugin package that cannot be made: its main entry failed to import
 * (`doing`: `'import'`) or its factory threw (`doing`: the factory's name and `()`). Coded
 * ERR_INVALID_OPTION, not ERR_IO: nothing was read or written that a retry could mend; the
 * user's choice of installed or listed plugins is what to change, as for a listed plugin that
 * is missing.
 * @example
 * ```ts
 * module = await import(entryUrl).catch((error) => { throw pluginLoadError(pluginPackage, 'import', error); });
 * ```
 */
export function pluginLoadError(pluginPackage: PluginPackage, doing: string, error: unknown): BentoportError {
  const { name, version, directory } = pluginPackage;
  // One line, as every message: a SyntaxError from an import can span several.
  const reason = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ').trim();
  const where = directory === undefined ? '' : ` ${directory}`;
  return new BentoportError(
    'ERR_INVALID_OPTION',
    `[plugins] LOAD ${name}@${version}${where}: ${doing} failed: ${reason}; remove or upgrade ${name}, or take it out of BENTOPORT_PLUGINS or 'plugins:' in the config file`,
    { cause: error, details: { package: name, version, ...(directory === undefined ? {} : { directory }) } },
  );
}

/** The members each kind must have, as `typeof` results (`array` for an array). */
const REQUIRED_MEMBERS: Record<PluginKind, Record<string, string>> = {
  transport: { name: 'string', protocols: 'array', capabilities: 'object', stat: 'function', read: 'function', write: 'function' },
  format: { name: 'string', formats: 'array', capabilities: 'object', sniff: 'function', encode: 'function', decode: 'function' },
  registry: { name: 'string', capabilities: 'object', has: 'function', push: 'function', pull: 'function' },
};

function checkShape(kind: PluginKind, plugin: unknown, mistake: (reason: string) => TypeError): void {
  if (typeof plugin !== 'object' || plugin === null) throw mistake(`returned ${plugin === null ? 'null' : typeof plugin}, not a ${kind}`);
  const members = plugin as Record<string, unknown>;
  for (const [member, type] of Object.entries(REQUIRED_MEMBERS[kind])) {
    const value = members[member];
    const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
    if (actual !== type) throw mistake(`returned a ${kind} without ${member} (${type})`);
  }
}

/**
 * Make the plugin a package declares, from its imported main module: call the declared factory
 * with `options` and check that the result is a plugin of the declared kind (the one the caller
 * expects), for this contract version, serving everything the manifest promises.
 * @example
 * ```ts
 * const pluginPackage = readPluginManifest(JSON.parse(await readFile(packageJsonPath, 'utf8')), packageJsonPath);
 * const transport = pluginFromModule(pluginPackage, 'transport', await import(entryUrl), { env: process.env });
 * ```
 * @throws {BentoportError} ERR_PLUGIN_VERSION for another apiVersion (declared or returned).
 * @throws {BentoportError} ERR_INVALID_OPTION when the factory throws, naming the package (see {@link pluginLoadError}).
 * @throws {TypeError} when the package declares another kind, the module lacks the factory, or
 * the factory returns something else than it declared.
 */
export function pluginFromModule<K extends PluginKind>(
  pluginPackage: PluginPackage,
  kind: K,
  module: Readonly<Record<string, unknown>>,
  options: Readonly<Record<string, unknown>>,
): PluginOfKind<K> {
  const { name, manifest } = pluginPackage;
  if (manifest.kind !== kind) throw new TypeError(`plugin package ${name} declares a ${manifest.kind}, not a ${kind}`);
  checkManifestApiVersion(pluginPackage);
  const factory = module[manifest.factory];
  const mistake = (reason: string) => new TypeError(`plugin package ${name}: ${manifest.factory}() ${reason}`);
  if (typeof factory !== 'function') throw new TypeError(`plugin package ${name}: its main entry exports no function '${manifest.factory}'`);
  let plugin: unknown;
  try {
    plugin = factory(options);
  } catch (error) {
    throw pluginLoadError(pluginPackage, `${manifest.factory}()`, error);
  }
  checkShape(kind, plugin, mistake);
  checkApiVersion(kind, plugin as { apiVersion: number; name: string });
  const served = manifest.kind === 'transport' ? (plugin as Transport).protocols : manifest.kind === 'format' ? (plugin as Format).formats : undefined;
  const missing = served === undefined ? [] : servedNames(manifest).filter((declared) => !served.includes(declared));
  if (missing.length > 0) throw mistake(`returned a ${kind} that does not serve ${missing.join(', ')}, which package.json declares`);
  return plugin as PluginOfKind<K>;
}
