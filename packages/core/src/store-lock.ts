import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { BentoportError } from '@bentoport/spec';

/** True when a process with this pid exists on this host. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface LockOwner {
  pid: number;
  host: string;
}

async function readOwner(lockPath: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(path.join(lockPath, 'owner.json'), 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

/**
 * Whether a lock left behind can be taken over: its owner process is gone, or (owner file never
 * written, e.g. killed between mkdir and write) the lock is older than `staleAfterMs`.
 */
async function isStale(lockPath: string, staleAfterMs: number): Promise<boolean> {
  const owner = await readOwner(lockPath);
  if (owner && owner.host === hostname()) return !isProcessAlive(owner.pid);
  try {
    const info = await stat(lockPath);
    return Date.now() - info.mtimeMs > staleAfterMs;
  } catch {
    return true;
  }
}

export interface LockOptions {
  /** How long to wait for the lock. @default 60_000 */
  timeoutMs?: number;
  /** A lock without a live owner on this host is taken over after this long. @default 600_000 */
  staleAfterMs?: number;
}

/**
 * Run `body` holding a cross-process lock. The lock is a directory (mkdir is atomic on every
 * local file system and on NFS), holding the owner's pid so a lock of a killed process is
 * taken over instead of blocking forever.
 * @throws {BentoportError} ERR_LOCK_TIMEOUT when the lock stays taken for `timeoutMs`.
 */
export async function withLock<T>(lockPath: string, body: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const staleAfterMs = options.staleAfterMs ?? 600_000;
  const deadline = Date.now() + timeoutMs;
  await mkdir(path.dirname(lockPath), { recursive: true });
  let delay = 5;
  for (;;) {
    try {
      await mkdir(lockPath);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await isStale(lockPath, staleAfterMs)) {
      // Another waiter may take it over at the same time; mkdir decides which one wins.
      await rm(lockPath, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      const owner = await readOwner(lockPath);
      throw new BentoportError(
        'ERR_LOCK_TIMEOUT',
        `[store] lock ${lockPath} is held${owner ? ` by process ${owner.pid}` : ''} for over ${timeoutMs} ms; if no bentoport runs, remove it`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 200);
  }
  try {
    await writeFile(path.join(lockPath, 'owner.json'), JSON.stringify({ pid: process.pid, host: hostname() }));
    return await body();
  } finally {
    await rm(lockPath, { recursive: true, force: true });
  }
}
