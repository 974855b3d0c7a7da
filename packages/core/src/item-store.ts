import { cp, mkdir, mkdtemp, readFile, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { bentomlHome } from '@bentoport/plugin-kit';
import { BentoportError } from '@bentoport/spec';
import { parseBentoYaml, parseModelYaml, type ItemMetadata } from './metadata.js';
import { withLock } from './store-lock.js';
import { compareTags, formatTag, makeTag, parseTag, type Tag } from './tag.js';
import type { ItemKind } from './target.js';

/** An item in a store: a version directory with its parsed yaml. */
export interface StoreItem {
  kind: ItemKind;
  tag: Tag & { version: string };
  /** Absolute path of the version directory. */
  path: string;
  metadata: ItemMetadata;
}

/** BentoML's store of one kind: `$BENTOML_HOME/bentos` or `$BENTOML_HOME/models`. */
export interface ItemStore {
  readonly kind: ItemKind;
  /** `$BENTOML_HOME`, absolute. */
  readonly home: string;
  /** `$BENTOML_HOME/bentos` or `…/models`, absolute. */
  readonly base: string;
  /**
   * Every item (no argument), every version of a name, or `[item]`/`[]` for `name:version`.
   * `name:latest` lists the latest version (BentoML returns nothing). A version directory without
   * its yaml is skipped: BentoML may be writing it.
   * @throws {BentoportError} ERR_NOT_FOUND `no Bentos with name 'x' found` for an unknown name.
   */
  list(tagLike?: string): Promise<StoreItem[]>;
  /**
   * Resolve `name`, `name:latest`, `name:version` or `name:<unique version prefix>`.
   * @throws {BentoportError} ERR_NOT_FOUND, ERR_AMBIGUOUS (`Multiple x versions found: …`), ERR_INVALID_TAG.
   */
  get(tagLike: string | Tag): Promise<StoreItem>;
  /** True when this exact version is in the store. */
  has(tag: Tag & { version: string }): Promise<boolean>;
  /**
   * Delete `name` (all versions), `name:latest` (silently nothing if no latest) or `name:version`
   * (exact). Rewrites or removes `latest`.
   * @throws {BentoportError} ERR_NOT_FOUND `Bento 'x:y' not found`.
   */
  delete(tagLike: string | Tag): Promise<void>;
  /**
   * Move a complete staged version directory into the store with one rename, under the name's
   * lock, then update `latest`. With `replace`, an existing copy of THIS version is moved aside
   * first and removed only once the new one is in place (restored if the move fails); other
   * versions are never touched (BentoML's `pull -f` wipes them all).
   * @throws {BentoportError} ERR_ALREADY_EXISTS with BentoML's message when the version exists
   * and `replace` is not set.
   */
  install(stagedDirectory: string, metadata: ItemMetadata, options?: { replace?: boolean }): Promise<StoreItem>;
  /** Run `body` holding this name's lock (import, delete and `latest` updates take it). */
  withNameLock<T>(name: string, body: () => Promise<T>): Promise<T>;
}

/**
 * What follows `<version>` in the name of an item's signature file, kept beside the version
 * directory (see item-signatures.ts). BentoML lists only directories, so it never sees it.
 */
export const STORE_SIGNATURE_SUFFIX = '.bentoport.sig';

/** How BentoML names each kind in messages: `Bento`, `Model`. */
export const TYPE_NAME: Record<ItemKind, string> = { bento: 'Bento', model: 'Model' };
const YAML_NAME: Record<ItemKind, string> = { bento: 'bento.yaml', model: 'model.yaml' };
const PULL_COMMAND: Record<ItemKind, string> = { bento: 'bentoml pull', model: 'bentoml models pull' };

async function isDirectory(target: string): Promise<boolean> {
  try {
    return (await stat(target)).isDirectory();
  } catch {
    return false;
  }
}

async function exists(target: string): Promise<boolean> {
  try {
    await stat(target);
    return true;
  } catch {
    return false;
  }
}

/** Newest creation_time first is "greater"; equal instants fall back to the version string. */
function compareByCreation(a: StoreItem, b: StoreItem): number {
  if (a.metadata.creationTime !== b.metadata.creationTime) return a.metadata.creationTime < b.metadata.creationTime ? -1 : 1;
  return compareTags(a.tag, b.tag);
}

/** Read an item's yaml, or undefined when the directory has none (yet). */
export async function loadItemMetadata(kind: ItemKind, directory: string): Promise<ItemMetadata | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(directory, YAML_NAME[kind]), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return kind === 'bento' ? parseBentoYaml(text) : parseModelYaml(text);
}

/**
 * An item's yaml, or ERR_INVALID_METADATA in BentoML's words naming `where` (a path, or a place
 * in an archive) when the directory has none.
 */
export async function requireItemMetadata(kind: ItemKind, directory: string, where: string): Promise<ItemMetadata> {
  const metadata = await loadItemMetadata(kind, directory);
  if (!metadata) {
    throw new BentoportError(
      'ERR_INVALID_METADATA',
      `Failed to load ${kind === 'bento' ? 'bento' : 'bento model'} because it does not contain a '${YAML_NAME[kind]}' (${where})`,
    );
  }
  return metadata;
}

/**
 * BentoML's `$BENTOML_HOME`: the env var (variables and `~` expanded) or `~/bentoml`, made
 * absolute. The kit's `bentomlHome`, so the engine and the plugins agree on where the store is.
 */
export function defaultHome(env: NodeJS.ProcessEnv = process.env): string {
  return bentomlHome(env);
}

/** Open the store of one kind under a BentoML home. Directories are created on first write. */
export function openItemStore(home: string, kind: ItemKind): ItemStore {
  const absoluteHome = path.resolve(home);
  const base = path.join(absoluteHome, kind === 'bento' ? 'bentos' : 'models');
  const typeName = TYPE_NAME[kind];

  const lockPath = (name: string) => path.join(absoluteHome, 'tmp', 'bentoport-locks', `${kind}-${name}`);
  const withNameLock = <T>(name: string, body: () => Promise<T>) => withLock(lockPath(name), body);

  async function load(name: string, version: string): Promise<StoreItem | undefined> {
    const directory = path.join(base, name, version);
    const metadata = await loadItemMetadata(kind, directory);
    if (!metadata) return undefined;
    return { kind, tag: makeTag(name, version) as Tag & { version: string }, path: directory, metadata };
  }

  async function loadRequired(name: string, version: string): Promise<StoreItem> {
    const directory = path.join(base, name, version);
    const metadata = await requireItemMetadata(kind, directory, directory);
    return { kind, tag: makeTag(name, version) as Tag & { version: string }, path: directory, metadata };
  }

  async function versionsOf(name: string): Promise<string[]> {
    try {
      const entries = await readdir(path.join(base, name), { withFileTypes: true });
      return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
      throw error;
    }
  }

  async function itemsOf(name: string): Promise<StoreItem[]> {
    const items: StoreItem[] = [];
    for (const version of await versionsOf(name)) {
      const item = await load(name, version);
      if (item) items.push(item);
    }
    return items.sort((a, b) => compareTags(a.tag, b.tag));
  }

  /** The newest item by creation_time, or undefined when the name has none. */
  async function newest(name: string): Promise<StoreItem | undefined> {
    const items = await itemsOf(name);
    return items.reduce<StoreItem | undefined>((best, item) => (!best || compareByCreation(item, best) > 0 ? item : best), undefined);
  }

  /** Replace `latest` atomically: write a temp file beside it, then rename over it. */
  async function writeLatest(name: string, version: string): Promise<void> {
    const latest = path.join(base, name, 'latest');
    const temporary = `${latest}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temporary, version);
    await rename(temporary, latest);
  }

  async function readLatest(name: string): Promise<string | undefined> {
    try {
      return (await readFile(path.join(base, name, 'latest'), 'utf8')).trim();
    } catch {
      return undefined;
    }
  }

  /** BentoML's `_recreate_latest`: point `latest` at the newest creation_time. */
  async function recreateLatest(name: string): Promise<StoreItem | undefined> {
    const best = await newest(name);
    if (best) await writeLatest(name, best.tag.version);
    return best;
  }

  async function resolveLatest(name: string): Promise<StoreItem> {
    const version = await readLatest(name);
    if (version && (await isDirectory(path.join(base, name, version)))) {
      const item = await load(name, version);
      if (item) return item;
    }
    const best = await withNameLock(name, () => recreateLatest(name));
    if (!best) {
      throw new BentoportError('ERR_NOT_FOUND', `no ${typeName}s with name '${name}' exist in BentoML store ${base}`);
    }
    return best;
  }

  const store: ItemStore = {
    kind,
    home: absoluteHome,
    base,
    withNameLock,

    async list(tagLike) {
      if (tagLike === undefined) {
        let names: string[];
        try {
          const entries = await readdir(base, { withFileTypes: true });
          names = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
          throw error;
        }
        const all: StoreItem[] = [];
        for (const name of names) all.push(...(await itemsOf(name)));
        return all;
      }
      const tag = parseTag(tagLike);
      if (tag.version === undefined) {
        if (!(await isDirectory(path.join(base, tag.name)))) {
          throw new BentoportError('ERR_NOT_FOUND', `no ${typeName}s with name '${tag.name}' found`);
        }
        return itemsOf(tag.name);
      }
      if (tag.version === 'latest') {
        // Deliberate fix: BentoML returns nothing here because `latest` is a file.
        try {
          return [await resolveLatest(tag.name)];
        } catch (error) {
          if (error instanceof BentoportError && error.code === 'ERR_NOT_FOUND') return [];
          throw error;
        }
      }
      const item = await load(tag.name, tag.version);
      return item ? [item] : [];
    },

    async get(tagLike) {
      const tag = typeof tagLike === 'string' ? parseTag(tagLike) : tagLike;
      const original = typeof tagLike === 'string' ? tagLike : formatTag(tagLike);
      if (tag.version === undefined || tag.version === 'latest') return resolveLatest(tag.name);
      if (await isDirectory(path.join(base, tag.name, tag.version))) return loadRequired(tag.name, tag.version);
      const prefix = tag.version;
      const matches = (await versionsOf(tag.name)).filter((version) => version.startsWith(prefix)).sort();
      if (matches.length === 1) return loadRequired(tag.name, matches[0] as string);
      if (matches.length > 1) {
        throw new BentoportError('ERR_AMBIGUOUS', `Multiple ${tag.name} versions found: ${matches.join(', ')}`);
      }
      throw new BentoportError(
        'ERR_NOT_FOUND',
        `${typeName} '${original}' is not found in BentoML store ${base}, you may need to run \`${PULL_COMMAND[kind]}\` first`,
      );
    },

    async has(tag) {
      return isDirectory(path.join(base, tag.name, tag.version));
    },

    async delete(tagLike) {
      const tag = typeof tagLike === 'string' ? parseTag(tagLike) : tagLike;
      await withNameLock(tag.name, async () => {
        let version = tag.version;
        if (version === 'latest') {
          version = await readLatest(tag.name);
          if (version === undefined) return;
        }
        const target = version === undefined ? path.join(base, tag.name) : path.join(base, tag.name, version);
        if (!(await exists(target))) {
          throw new BentoportError('ERR_NOT_FOUND', `${typeName} '${formatTag(tag)}' not found`);
        }
        // Move it out of the store first, so a reader never sees a half-deleted version.
        const graveyard = path.join(absoluteHome, 'tmp', `bentoport-deleted-${process.pid}-${randomBytes(4).toString('hex')}`);
        await mkdir(path.dirname(graveyard), { recursive: true });
        try {
          await rename(target, graveyard);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
        }
        await rm((await exists(graveyard)) ? graveyard : target, { recursive: true, force: true });
        if (version !== undefined) await rm(path.join(base, tag.name, `${version}${STORE_SIGNATURE_SUFFIX}`), { force: true });
        const nameDirectory = path.join(base, tag.name);
        if (!(await isDirectory(nameDirectory))) return;
        if ((await versionsOf(tag.name)).length === 0) {
          await rm(nameDirectory, { recursive: true, force: true });
          return;
        }
        await recreateLatest(tag.name);
      });
    },

    async install(stagedDirectory, metadata, installOptions = {}) {
      const { name, version } = metadata.tag;
      const target = path.join(base, name, version);
      return withNameLock(name, async () => {
        let displaced: string | undefined;
        if (await exists(target)) {
          if (!installOptions.replace) {
            throw new BentoportError('ERR_ALREADY_EXISTS', `Item '${name}:${version}' already exists in the store ${base}`);
          }
          displaced = await moveAside(target, absoluteHome, base);
        }
        await mkdir(path.join(base, name), { recursive: true });
        // rename(2) would silently replace an empty directory at `target`; the check above under
        // the lock rules that out among bentoport processes.
        try {
          await moveInto(stagedDirectory, target, base);
        } catch (error) {
          if (displaced) await rename(displaced, target);
          throw error;
        }
        // A signature left from an earlier copy of this version (deleted by BentoML, or replaced
        // here) describes other content: the new copy starts unsigned.
        await rm(path.join(base, name, `${version}${STORE_SIGNATURE_SUFFIX}`), { force: true });
        if (displaced) {
          await rm(displaced, { recursive: true, force: true });
          if (path.basename(path.dirname(displaced)) === '.bentoport-staging') await rmdir(path.dirname(displaced)).catch(() => undefined);
          await recreateLatest(name);
          return { kind, tag: metadata.tag, path: target, metadata };
        }
        const item: StoreItem = { kind, tag: metadata.tag, path: target, metadata };
        const currentVersion = await readLatest(name);
        const current = currentVersion === undefined ? undefined : await load(name, currentVersion).catch(() => undefined);
        if (!current || compareByCreation(item, current) > 0) await writeLatest(name, version);
        return item;
      });
    },
  };
  return store;
}

/** Move an installed version out of the store (to `$BENTOML_HOME/tmp`, or beside the store across file systems). */
async function moveAside(target: string, home: string, base: string): Promise<string> {
  const suffix = `bentoport-deleted-${process.pid}-${randomBytes(4).toString('hex')}`;
  const inTmp = path.join(home, 'tmp', suffix);
  await mkdir(path.dirname(inTmp), { recursive: true });
  try {
    await rename(target, inTmp);
    return inTmp;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
  }
  const near = path.join(base, '.bentoport-staging', suffix);
  await mkdir(path.dirname(near), { recursive: true });
  await rename(target, near);
  return near;
}

/**
 * Rename a staged directory to its place. When the store sits on another file system than the
 * staging area (EXDEV), copy it first into `<store>/.bentoport-staging/` (same file system as the
 * target) and rename from there, so the version still appears in one step.
 */
async function moveInto(staged: string, target: string, base: string): Promise<void> {
  try {
    await rename(staged, target);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
  }
  const nearParent = path.join(base, '.bentoport-staging');
  await mkdir(nearParent, { recursive: true });
  const near = await mkdtemp(path.join(nearParent, `bentoport-staging-${process.pid}-`));
  try {
    await cp(staged, path.join(near, 'item'), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    await rename(path.join(near, 'item'), target);
    await rm(staged, { recursive: true, force: true });
  } finally {
    await rm(near, { recursive: true, force: true });
    await rmdir(nearParent).catch(() => undefined);
  }
}
