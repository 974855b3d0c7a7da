import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import * as path from 'node:path';

/** Options of {@link hashTree}. */
export interface HashTreeOptions {
  /** Leave out entries for which this returns true (relative POSIX path). Their subtrees are skipped too. */
  ignore?: (relativePath: string) => boolean;
  /** Put `file:<sha256>` without the mode, for trees whose modes are not expected to survive. @default true */
  includeModes?: boolean;
}

async function sha256File(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(filePath, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Describe a directory tree for comparison by content, never by mtime or size: relative POSIX
 * path → `file:<sha256>:<mode & 0o777 in octal>`, `dir` or `link:<target>`. The root itself is
 * not listed. Keys come in sorted order.
 * @example
 * expect(await hashTree(imported.path)).toEqual(await hashTree(sample.bentoPath));
 */
export async function hashTree(directory: string, options: HashTreeOptions = {}): Promise<Map<string, string>> {
  const includeModes = options.includeModes ?? true;
  const result = new Map<string, string>();
  async function walk(relative: string): Promise<void> {
    const entries = (await readdir(path.join(directory, relative))).sort();
    for (const name of entries) {
      const entryRelative = relative === '' ? name : `${relative}/${name}`;
      if (options.ignore?.(entryRelative)) continue;
      const full = path.join(directory, entryRelative);
      const stats = await lstat(full);
      if (stats.isSymbolicLink()) {
        result.set(entryRelative, `link:${await readlink(full)}`);
      } else if (stats.isDirectory()) {
        result.set(entryRelative, 'dir');
        await walk(entryRelative);
      } else if (stats.isFile()) {
        const digest = await sha256File(full);
        result.set(entryRelative, includeModes ? `file:${digest}:${(stats.mode & 0o777).toString(8)}` : `file:${digest}`);
      } else {
        result.set(entryRelative, 'other');
      }
    }
  }
  await walk('');
  return result;
}

/** The differences between two hashTree results, as readable lines (empty when equal). */
export function diffTrees(expected: Map<string, string>, actual: Map<string, string>): string[] {
  const lines: string[] = [];
  for (const [key, value] of expected) {
    const other = actual.get(key);
    if (other === undefined) lines.push(`missing: ${key} (${value})`);
    else if (other !== value) lines.push(`changed: ${key}: expected ${value}, got ${other}`);
  }
  for (const [key, value] of actual) if (!expected.has(key)) lines.push(`extra: ${key} (${value})`);
  return lines;
}
