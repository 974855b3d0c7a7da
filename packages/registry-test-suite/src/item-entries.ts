import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { ArchiveEntry } from '@bentoport/spec';

/**
 * The entries of an item directory as core hands them to a registry: depth first, names sorted, a
 * directory before its children, every mtime set to the creation time, symlinks kept, the top-level
 * names in `exclude` (a bento's `models`) left out. Each call walks afresh.
 */
export async function* itemEntries(root: string, mtime: number, exclude: readonly string[]): AsyncGenerator<ArchiveEntry> {
  async function* walk(relative: string): AsyncGenerator<ArchiveEntry> {
    const names = (await readdir(path.join(root, relative))).sort();
    for (const name of names) {
      if (relative === '' && exclude.includes(name)) continue;
      const entryPath = relative === '' ? name : `${relative}/${name}`;
      const absolute = path.join(root, entryPath);
      const stats = await lstat(absolute);
      const common = { path: entryPath, mode: stats.mode & 0o7777, mtime };
      if (stats.isDirectory()) {
        yield { ...common, type: 'directory', size: 0 };
        yield* walk(entryPath);
      } else if (stats.isSymbolicLink()) {
        yield { ...common, type: 'symlink', size: 0, linkTarget: await readlink(absolute) };
      } else if (stats.isFile()) {
        yield { ...common, type: 'file', size: stats.size, open: () => createReadStream(absolute) };
      }
    }
  }
  yield* walk('');
}
