import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * Bytes of the regular files under a directory (symlinks not followed), leaving out the
 * top-level names in `exclude`. BentoML's `size` of a store item is this figure.
 *
 * Synchronous inside: one lstat per file through the libuv thread pool cost an export of a
 * 10,000-file bento about 0.3 s of waiting before its first byte; in a row on this thread the
 * calls take a few microseconds each. The promise keeps the signature callers rely on.
 */
export async function directorySize(directory: string, exclude: readonly string[] = []): Promise<number> {
  return directorySizeSync(directory, exclude);
}

function directorySizeSync(directory: string, exclude: readonly string[] = []): number {
  let total = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (exclude.includes(entry.name)) continue;
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) total += directorySizeSync(full);
    else if (entry.isFile()) total += lstatSync(full).size;
  }
  return total;
}
