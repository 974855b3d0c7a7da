import { mkdir, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Emit } from './engine-context.js';
import { isProcessAlive } from './store-lock.js';

const PREFIX = 'bentoport-staging-';
/** A staging directory whose owner is gone, or older than this, is swept. */
const STALE_AFTER_MS = 7 * 24 * 3600 * 1000;

/**
 * Where an import stages its files before the rename into the store: `$BENTOML_HOME/tmp`, never
 * inside `bentos/` or `models/` where BentoML would trip over it — unless the store directory sits
 * on another file system (rename would fail with EXDEV), then beside its items in
 * `<store>/.bentoport-staging` (removed again when empty).
 */
export async function createStagingDirectory(home: string, storeBases: string[]): Promise<string> {
  const tmp = path.join(home, 'tmp');
  await mkdir(tmp, { recursive: true });
  const tmpDevice = (await stat(tmp)).dev;
  let parent = tmp;
  for (const base of storeBases) {
    await mkdir(base, { recursive: true });
    if ((await stat(base)).dev !== tmpDevice) {
      parent = path.join(base, '.bentoport-staging');
      await mkdir(parent, { recursive: true });
      break;
    }
  }
  const directory = path.join(parent, `${PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
  await mkdir(directory);
  return directory;
}

/** Remove a staging directory, and its `.bentoport-staging` parent when that is left empty. */
export async function removeStagingDirectory(directory: string): Promise<void> {
  await rm(directory, { recursive: true, force: true });
  const parent = path.dirname(directory);
  if (path.basename(parent) === '.bentoport-staging') {
    await rmdir(parent).catch(() => undefined);
  }
}

/**
 * Remove staging directories left by killed imports: those whose process is gone (this host),
 * or that are older than a week. Best effort: a failure here never fails an import.
 */
export async function sweepStaleStaging(home: string): Promise<string[]> {
  const swept: string[] = [];
  const tmp = path.join(home, 'tmp');
  let names: string[];
  try {
    names = await readdir(tmp);
  } catch {
    return swept;
  }
  for (const name of names) {
    if (!name.startsWith(PREFIX) && !name.startsWith('bentoport-deleted-')) continue;
    const pid = Number(name.split('-')[2]);
    const directory = path.join(tmp, name);
    try {
      const info = await stat(directory);
      const stale = !Number.isInteger(pid) || pid === process.pid ? false : !isProcessAlive(pid);
      if (stale || Date.now() - info.mtimeMs > STALE_AFTER_MS) {
        await rm(directory, { recursive: true, force: true });
        swept.push(directory);
      }
    } catch {
      // Gone already, or not ours to remove.
    }
  }
  return swept;
}

/**
 * {@link sweepStaleStaging}, each directory removed told as a notice, in the words the transports
 * use for the temporary files they sweep, so a user sees where the space went. Never throws.
 */
export async function sweepStaleStagingAndTell(home: string, emit: Emit): Promise<void> {
  const swept = await sweepStaleStaging(home).catch((): string[] => []);
  for (const directory of swept) emit({ type: 'notice', message: `[store] removed a stale leftover of an interrupted earlier run: ${directory}` });
}
