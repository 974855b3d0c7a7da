import { lstatSync, readdirSync, type Stats } from 'node:fs';
import path from 'node:path';

/**
 * The lstat results a size count took, by absolute path, for a walk right after it (an export's
 * entries) to use instead of asking again: a bento of 10,000 small files was stat'ed twice.
 * Bounded: past {@link STATS_KEPT_AT_MOST} files the rest are left to be stat'ed again.
 */
export type StatsTaken = Map<string, Stats>;

/** Files whose lstat a {@link StatsTaken} keeps at most (about 25 MiB of them). */
const STATS_KEPT_AT_MOST = 100_000;

/**
 * Bytes of the regular files under a directory (symlinks not followed), leaving out the
 * top-level names in `exclude`. BentoML's `size` of a store item is this figure. With `taken`,
 * each file's lstat result is kept there.
 *
 * Synchronous inside: one lstat per file through the libuv thread pool cost an export of a
 * 10,000-file bento about 0.3 s of waiting before its first byte; in a row on this thread the
 * calls take a few microseconds each. The promise keeps the signature callers rely on.
 */
export async function directorySize(directory: string, exclude: readonly string[] = [], taken?: StatsTaken): Promise<number> {
  return directorySizeSync(directory, exclude, taken);
}

function directorySizeSync(directory: string, exclude: readonly string[], taken: StatsTaken | undefined): number {
  let total = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (exclude.includes(entry.name)) continue;
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) total += directorySizeSync(full, [], taken);
    else if (entry.isFile()) {
      const info = lstatSync(full);
      if (taken !== undefined && taken.size < STATS_KEPT_AT_MOST) taken.set(full, info);
      total += info.size;
    }
  }
  return total;
}
