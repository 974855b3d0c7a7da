import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** A plugin package written by a test: the smallest module a kind's checks accept. */
export interface FixturePlugin {
  name: string;
  kind: 'transport' | 'format' | 'registry';
  /** Protocols, format tokens or registry schemes. */
  serves: string[];
  /** @default 1 */
  apiVersion?: number;
  /** Extra package.json fields, or undefined values to remove some (`keywords`). */
  packageJson?: Record<string, unknown>;
  /**
   * Make a broken package: its module imports a package that is not installed, its factory throws
   * `boom from factory`, or (a transport) its `stat` throws `boom from a timer` where nothing can
   * catch it, then waits for its signal.
   */
  breaks?: 'import' | 'factory' | 'uncaught';
}

/** The members each kind's fixture plugin has beyond `apiVersion` and `name`. */
const PLUGIN_BODY = {
  transport: (serves: string[]) => `protocols: ${JSON.stringify(serves)},
    capabilities: { rangedReads: false, list: false, delete: false, atomicCommit: true, resumableWrites: false },
    stat: async () => ({ type: 'file', size: 0 }), read: async () => { throw new Error('fixture'); }, write: async () => { throw new Error('fixture'); },`,
  format: (serves: string[]) => `formats: ${JSON.stringify(serves)},
    capabilities: { randomAccessDecode: false, symlinks: true, hardlinks: false, reproducible: true },
    sniff: () => undefined, encode: () => { throw new Error('fixture'); }, decode: () => { throw new Error('fixture'); },`,
  registry: () => `url: options.url,
    capabilities: { separateModels: true, dedup: false, resumableUploads: false },
    has: async () => false, push: async () => undefined, pull: () => { throw new Error('fixture'); },`,
};

/** A transport `stat` with a bug: an exception thrown from a timer, then a wait for its signal. */
const UNCAUGHT_STAT = `
    stat: (location, options) => new Promise((resolve, reject) => {
      setTimeout(() => { throw new Error('boom from a timer'); }, 10);
      options?.signal?.addEventListener('abort', () => reject(options.signal.reason));
    }),`;

/**
 * Write a plugin package into `directory` (a node_modules entry or any folder). Its module records
 * each import, and the options its factory got, in `globalThis.bentoportFixtureLog`, so a test can
 * tell which plugins were imported.
 */
export async function writeFixturePlugin(directory: string, plugin: FixturePlugin): Promise<string> {
  const apiVersion = plugin.apiVersion ?? 1;
  await mkdir(path.join(directory, 'dist'), { recursive: true });
  const packageJson: Record<string, unknown> = {
    name: plugin.name,
    version: '1.0.0',
    type: 'module',
    keywords: ['bentoport', `bentoport-${plugin.kind}`],
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
    bentoport: { apiVersion, kind: plugin.kind, factory: 'makePlugin', [{ transport: 'protocols', format: 'formats', registry: 'schemes' }[plugin.kind]]: plugin.serves },
    ...plugin.packageJson,
  };
  for (const key of Object.keys(packageJson)) if (packageJson[key] === undefined) delete packageJson[key];
  await writeFile(path.join(directory, 'package.json'), JSON.stringify(packageJson, null, 2));
  await writeFile(
    path.join(directory, 'dist', 'index.js'),
    `${plugin.breaks === 'import' ? "import 'bentoport-fixture-missing-dependency';\n" : ''}const log = (globalThis.bentoportFixtureLog ??= []);
log.push({ imported: ${JSON.stringify(plugin.name)} });
export function makePlugin(options) {
  log.push({ made: ${JSON.stringify(plugin.name)}, options });
  ${plugin.breaks === 'factory' ? "throw new Error('boom from factory');" : ''}
  return { apiVersion: ${apiVersion}, name: ${JSON.stringify(plugin.name)}, ${PLUGIN_BODY[plugin.kind](plugin.serves)}${plugin.breaks === 'uncaught' ? UNCAUGHT_STAT : ''} };
}
`,
  );
  return directory;
}

/** What fixture plugins recorded in this process. */
export function fixtureLog(): Array<{ imported?: string; made?: string; options?: Record<string, unknown> }> {
  return ((globalThis as { bentoportFixtureLog?: [] }).bentoportFixtureLog ??= []);
}
