import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const created = new Set<string>();

/**
 * Create a fresh directory under the system temp directory, remembered for {@link removeScratchDirs}.
 * @example
 * const home = await makeScratchDir('store-a');
 * afterAll(removeScratchDirs);
 */
export async function makeScratchDir(prefix = 'scratch'): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), `bentoport-${prefix}-`));
  created.add(directory);
  return directory;
}

/** Remove every directory {@link makeScratchDir} made in this process. */
export async function removeScratchDirs(): Promise<void> {
  const directories = [...created];
  created.clear();
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
}
