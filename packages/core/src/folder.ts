import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { staleTemporarySiblings, temporarySiblingName } from '@bentoport/plugin-kit';
import { type ArchiveEntry, BentoportError, type Location } from '@bentoport/spec';
import { extractEntries } from './safe-extract.js';

/**
 * The `folder` format of BentoML's export and import: an item as a plain directory tree instead of
 * an archive.
 *
 * Local only for now: a `Transport` moves bytes of one object and has no way to make a
 * directory, so `folder` on another protocol fails with ERR_UNSUPPORTED_FORMAT naming the
 * archive formats to use instead.
 */

function requireLocal(location: Location, operation: 'export' | 'import'): string {
  if (location.protocol !== 'file') {
    throw new BentoportError(
      'ERR_UNSUPPORTED_FORMAT',
      `format 'folder' ${operation === 'export' ? 'writes' : 'reads'} local directories only, not ${location.display}; use an archive format (bento, gz, tar, zip, …) for ${location.protocol}://`,
    );
  }
  return location.path;
}

async function isDirectory(target: string): Promise<boolean> {
  return (await lstat(target).catch(() => undefined))?.isDirectory() ?? false;
}

/**
 * Remove the temporary trees that killed folder exports to `directory` left beside it (their
 * process is gone), calling `onRemoved` with each. Best effort: never fails the export.
 */
async function removeStaleTemporaryTrees(directory: string, onRemoved: (removed: string) => void): Promise<void> {
  const parent = path.dirname(directory);
  try {
    const names = await readdir(parent);
    const modifiedOf = async (name: string) => (await lstat(path.join(parent, name))).mtimeMs;
    for (const name of await staleTemporarySiblings(names.map((entry) => ({ name: entry })), path.basename(directory), modifiedOf)) {
      await rm(path.join(parent, name), { recursive: true, force: true });
      onRemoved(path.join(parent, name));
    }
  } catch {
    // An unreadable parent: the export itself reports what matters.
  }
}

/** Options of {@link exportFolder}. */
export interface ExportFolderOptions {
  signal?: AbortSignal;
  /** Told each temporary tree of a killed earlier export that was removed. @default nothing told */
  onRemoved?: (removed: string) => void;
  /**
   * Runs once every file is written, before the tree is renamed into place, with the directory it
   * will have; a failure leaves nothing (the export's signature is made here). @default nothing
   */
  beforeRename?: (directory: string) => Promise<void>;
}

/**
 * Writes `entries` as a directory tree at `location`. As BentoML: into a path that does not
 * exist the contents land directly there; into an existing directory they are nested under
 * `<dest>/<basename of the item directory>` (the version, for store items). The tree is written
 * under a temporary sibling name and renamed into place, so a failed export leaves nothing; the
 * temporary trees of killed exports to the same directory are removed first, each reported to
 * `onRemoved`.
 *
 * @returns the directory written and the bytes of its files.
 * @throws {BentoportError} ERR_UNSUPPORTED_FORMAT for a non-local location, ERR_ALREADY_EXISTS
 * when the nested directory exists, ERR_NOT_FOUND when the parent directory is missing.
 */
export async function exportFolder(
  entries: AsyncIterable<ArchiveEntry>,
  location: Location,
  itemDirectoryName: string,
  options: ExportFolderOptions = {},
): Promise<{ directory: string; size: number }> {
  const { signal, onRemoved = () => {} } = options;
  const requested = path.resolve(requireLocal(location, 'export'));
  const directory = (await isDirectory(requested)) ? path.join(requested, itemDirectoryName) : requested;
  if (await lstat(directory).catch(() => undefined)) {
    throw new BentoportError('ERR_ALREADY_EXISTS', `[export] folder ${directory} already exists`);
  }
  const parent = path.dirname(directory);
  if (!(await isDirectory(parent))) throw new BentoportError('ERR_NOT_FOUND', `[export] folder ${directory}: the parent directory ${parent} does not exist`);
  await removeStaleTemporaryTrees(directory, onRemoved);
  const temporary = path.join(parent, temporarySiblingName(path.basename(directory)));
  await mkdir(temporary);
  try {
    const summary = await extractEntries(entries, temporary, { signal, limits: { maxTotalBytes: Number.MAX_SAFE_INTEGER, maxEntries: Number.MAX_SAFE_INTEGER } });
    await options.beforeRename?.(directory);
    await rename(temporary, directory);
    return { directory, size: summary.bytes };
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The local directory a `folder` import reads in place.
 * @throws {BentoportError} ERR_UNSUPPORTED_FORMAT for a non-local location, ERR_INVALID_TARGET
 * when it is not a directory.
 */
export async function folderSource(location: Location): Promise<string> {
  const directory = path.resolve(requireLocal(location, 'import'));
  if (!(await isDirectory(directory))) throw new BentoportError('ERR_INVALID_TARGET', `${location.display} is not a directory (format folder)`);
  return directory;
}
