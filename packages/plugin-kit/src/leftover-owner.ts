import { createHash } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * How long a leftover (a temporary file, an unfinished upload) whose owner cannot be checked
 * stays untouched: one from another host, or one named before owners were recorded. The age is
 * the file's mtime, which a live writer keeps moving, so only a write idle for a whole day
 * counts as abandoned.
 */
export const LEFTOVER_STALE_AFTER_MS = 24 * 60 * 60 * 1000;

/** Who made a leftover: a host tag and a process id. */
export interface LeftoverOwner {
  /** 8 hex digits identifying the host (see {@link hostTag}). */
  host: string;
  pid: number;
}

let cachedHostTag: string | undefined;

/**
 * This host as 8 hex digits: a hash of the host name and, on Linux, the pid namespace. Why the
 * namespace: two containers may share a host name (and a mounted directory) while each sees only
 * its own process ids, and one must never judge the other's pid dead.
 */
export function hostTag(): string {
  if (cachedHostTag === undefined) {
    let namespace = '';
    try {
      namespace = readlinkSync('/proc/self/ns/pid');
    } catch {
      // Not Linux, or no /proc: the host name alone.
    }
    cachedHostTag = createHash('sha256').update(`${hostname()}\0${namespace}`).digest('hex').slice(0, 8);
  }
  return cachedHostTag;
}

/** This process as an owner. */
export function currentOwner(): LeftoverOwner {
  return { host: hostTag(), pid: process.pid };
}

/** An owner as it is written into names: `<host tag>-<pid in base 36>`. */
export function formatOwner(owner: LeftoverOwner): string {
  return `${owner.host}-${owner.pid.toString(36)}`;
}

/** Whether a process with this id exists (EPERM: it does, under another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What {@link isLeftoverStale} weighs. */
export interface LeftoverFacts {
  /** Who made it; undefined for a leftover from before owners were recorded. */
  owner: LeftoverOwner | undefined;
  /** When it last changed, ms since the epoch; undefined when unknown. */
  modifiedMs: number | undefined;
  /** Now, ms since the epoch. @default Date.now() */
  nowMs?: number;
}

/**
 * Whether a leftover belongs to nobody any more: its owner ran on this host and has exited, or
 * (any owner, or none recorded) it has not changed for {@link LEFTOVER_STALE_AFTER_MS}. This
 * process's own leftovers are never stale: they are writes still in progress.
 */
export function isLeftoverStale(facts: LeftoverFacts): boolean {
  const { owner, modifiedMs } = facts;
  if (owner !== undefined && owner.host === hostTag()) {
    if (owner.pid === process.pid) return false;
    if (!isProcessAlive(owner.pid)) return true;
  }
  if (modifiedMs === undefined) return false;
  return (facts.nowMs ?? Date.now()) - modifiedMs > LEFTOVER_STALE_AFTER_MS;
}
