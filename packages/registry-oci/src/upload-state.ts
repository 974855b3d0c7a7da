import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { temporarySiblingName } from '@bentoport/plugin-kit';

/** A layer's digest and size, as a descriptor needs them. */
export interface BlobDigest {
  digest: string;
  size: number;
}

/** An unfinished chunked upload, saved after every accepted chunk so the next run can continue it. */
export interface UploadState {
  location: string;
  offset: number;
}

/**
 * The plugin's local state under one directory: `digests/` maps a layer's source identity (every
 * file's path, size, mtime and inode, plus the layer encoding) to its digest and size, so a second
 * push can HEAD the registry without reading gigabytes; `uploads/` keeps unfinished uploads.
 * Writes are temp file + rename; any read problem counts as a miss.
 */
export interface LocalState {
  getDigest(key: string): Promise<BlobDigest | undefined>;
  setDigest(key: string, value: BlobDigest): Promise<void>;
  getUpload(key: string): Promise<UploadState | undefined>;
  setUpload(key: string, value: UploadState): Promise<void>;
  deleteUpload(key: string): Promise<void>;
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = path.join(path.dirname(file), temporarySiblingName(path.basename(file)));
  await writeFile(temporary, JSON.stringify(value));
  await rename(temporary, file);
}

/** Where the state is kept by default: `$XDG_CACHE_HOME/bentoport/registry-oci`, else `~/.cache/bentoport/registry-oci`. */
export function defaultStateDirectory(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(env.HOME ?? homedir(), '.cache');
  return path.join(base, 'bentoport', 'registry-oci');
}

/** State kept in `directory`, or nowhere (`undefined`: every lookup misses). */
export function localState(directory: string | undefined): LocalState {
  const file = (kind: string, key: string) => path.join(directory as string, kind, `${key}.json`);
  return {
    getDigest: async (key) => (directory ? readJson<BlobDigest>(file('digests', key)) : undefined),
    setDigest: async (key, value) => {
      if (directory) await writeJson(file('digests', key), value).catch(() => undefined);
    },
    getUpload: async (key) => (directory ? readJson<UploadState>(file('uploads', key)) : undefined),
    setUpload: async (key, value) => {
      if (directory) await writeJson(file('uploads', key), value).catch(() => undefined);
    },
    deleteUpload: async (key) => {
      if (directory) await rm(file('uploads', key), { force: true }).catch(() => undefined);
    },
  };
}

/**
 * The identity of a directory's content without reading it: every entry's relative path, type,
 * size, mtime (ns) and inode, sorted, hashed with `salt` (the layer encoding and the excluded names).
 */
export async function sourceIdentity(directory: string, exclude: string[], salt: string): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`${salt}\0${path.resolve(directory)}\0`);
  async function walk(relative: string, top: boolean): Promise<void> {
    const names = (await readdir(path.join(directory, relative))).sort();
    for (const name of names) {
      if (top && exclude.includes(name)) continue;
      const entryRelative = relative === '' ? name : `${relative}/${name}`;
      const info = await lstat(path.join(directory, entryRelative), { bigint: true });
      const type = info.isDirectory() ? 'd' : info.isSymbolicLink() ? 'l' : info.isFile() ? 'f' : 'o';
      hash.update(`${entryRelative}\0${type}\0${info.size}\0${info.mtimeNs}\0${info.ino}\0${info.mode}\n`);
      if (type === 'd') await walk(entryRelative, false);
    }
  }
  await walk('', true);
  return hash.digest('hex');
}
