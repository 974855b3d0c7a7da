import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * Bytes of the regular files under a directory (symlinks not followed), leaving out the
 * top-level names in `exclude`. BentoML's `size` of a store item is this figure.
 */
export async function directorySize(directory: string, exclude: readonly string[] = []): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    if (exclude.includes(entry.name)) continue;
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) total += await directorySize(full);
    else if (entry.isFile()) total += (await lstat(full)).size;
  }
  return total;
}
