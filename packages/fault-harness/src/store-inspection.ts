import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { diffTrees, hashTree } from '@bentoport/test-utils';

/** An item the store may hold after the run: its tag and the source directory it must equal. */
export interface ExpectedItem {
  kind: 'bento' | 'model';
  tag: string;
  source: string;
}

export const itemDirectory = (home: string, item: ExpectedItem): string => {
  const [name, version] = item.tag.split(':') as [string, string];
  return path.join(home, item.kind === 'bento' ? 'bentos' : 'models', name, version);
};

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(
    () => true,
    () => false,
  );
}

/**
 * Which expected items the store holds whole, and the problems: a version directory that
 * differs from its source is a half item, whether or not `list` would show it.
 */
export async function inspectItems(home: string, items: ExpectedItem[]): Promise<{ whole: string[]; half: string[] }> {
  const whole: string[] = [];
  const half: string[] = [];
  for (const item of items) {
    const directory = itemDirectory(home, item);
    if (!(await exists(directory))) continue;
    const differences = diffTrees(await hashTree(item.source), await hashTree(directory).catch(() => new Map<string, string>()));
    if (differences.length === 0) whole.push(item.tag);
    else half.push(`${item.tag} at ${directory}: ${differences.slice(0, 3).join('; ')}${differences.length > 3 ? ` (+${differences.length - 3} more)` : ''}`);
  }
  return { whole, half };
}

/** Staging directories, locks and `.bentoport-staging` folders a run left in a store home. */
export async function storeLeftovers(home: string): Promise<string[]> {
  const found: string[] = [];
  const temporary = path.join(home, 'tmp');
  for (const name of await readdir(temporary).catch(() => [] as string[])) {
    if (name.startsWith('bentoport-staging-')) found.push(path.join(temporary, name));
  }
  const locks = path.join(temporary, 'bentoport-locks');
  for (const name of await readdir(locks).catch(() => [] as string[])) found.push(path.join(locks, name));
  for (const kind of ['bentos', 'models']) {
    const near = path.join(home, kind, '.bentoport-staging');
    if (await exists(near)) found.push(near);
  }
  return found;
}
