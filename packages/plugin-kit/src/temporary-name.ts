import { randomBytes } from 'node:crypto';
import { currentOwner, formatOwner, isLeftoverStale, type LeftoverOwner } from './leftover-owner.js';

/** Keeps `.<basename>.bentoport-<owner>-<12 hex>.tmp` within the usual 255-byte name limit. */
const MAX_BASENAME_IN_TEMPORARY_NAME = 200;

/** What follows `.<basename>` in a temporary name: the owner (absent in names before 0.x) and 12 random hex digits. */
const TEMPORARY_SUFFIX = /\.bentoport-(?:([0-9a-f]{8})-([0-9a-z]{1,11})-)?[0-9a-f]{12}\.tmp$/;

/**
 * The name under which a transport writes `basename` before its commit renames (or MOVEs) it
 * into place: hidden, recognisably ours, random, and short enough for any file system. Every
 * transport puts it beside the target, so the commit stays one atomic rename. It names its owner
 * (this host and process), so that when a killed process leaves it behind, the next write to the
 * same target can tell it from a write still in progress (see {@link staleTemporarySiblings}).
 *
 * @example temporarySiblingName('svc-v1.bento') // '.svc-v1.bento.bentoport-5c0e91ab-2n9c-3f9a0c12d4e5.tmp'
 */
export function temporarySiblingName(basename: string): string {
  return `${temporaryPrefix(basename)}${formatOwner(currentOwner())}-${randomBytes(6).toString('hex')}.tmp`;
}

/** The part every temporary name of `basename` starts with: `.<basename>.bentoport-`. */
function temporaryPrefix(basename: string): string {
  return `.${basename.slice(0, MAX_BASENAME_IN_TEMPORARY_NAME)}.bentoport-`;
}

/**
 * {@link temporarySiblingName} beside a `/`-separated path on a server (FTP, SFTP), whatever the
 * local platform's separator: `/data/svc.bento` → `/data/.svc.bento.bentoport-<owner>-<hex>.tmp`.
 */
export function temporarySiblingPath(remotePath: string): string {
  const trimmed = remotePath.replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  const directory = slash <= 0 ? '/' : trimmed.slice(0, slash);
  const name = temporarySiblingName(trimmed.slice(slash + 1));
  return directory === '/' ? `/${name}` : `${directory}/${name}`;
}

/**
 * Whether `name` is a temporary name {@link temporarySiblingName} gave for `basename`, and whose:
 * `{ owner }` (undefined for a name from before owners were written into names), or undefined
 * when it is not one of `basename`'s temporary names at all.
 */
export function parseTemporarySiblingName(name: string, basename: string): { owner: LeftoverOwner | undefined } | undefined {
  const prefix = temporaryPrefix(basename);
  if (!name.startsWith(prefix)) return undefined;
  const match = TEMPORARY_SUFFIX.exec(name.slice(prefix.length - '.bentoport-'.length));
  if (match === null || match.index !== 0) return undefined;
  const [, host, pid] = match;
  if (host === undefined || pid === undefined) return { owner: undefined };
  return { owner: { host, pid: Number.parseInt(pid, 36) } };
}

/** A directory entry as {@link staleTemporarySiblings} needs it. */
export interface SiblingEntry {
  name: string;
  /** Last modification, ms since the epoch; undefined when the server does not say. */
  modifiedMs?: number | undefined;
}

/**
 * The names among a directory's `entries` that are temporary files of writes to `basename` whose
 * writer is gone (see `isLeftoverStale`): what a killed export left beside its target. Entries
 * of other targets, of live writers and of this process are never returned. Pass `modifiedOf`
 * to look the age up only for the candidates that need it (a server that lists no times).
 */
export async function staleTemporarySiblings(
  entries: Iterable<SiblingEntry>,
  basename: string,
  modifiedOf?: (name: string) => Promise<number | undefined>,
): Promise<string[]> {
  const stale: string[] = [];
  for (const entry of entries) {
    const parsed = parseTemporarySiblingName(entry.name, basename);
    if (parsed === undefined) continue;
    if (isLeftoverStale({ owner: parsed.owner, modifiedMs: undefined })) {
      stale.push(entry.name);
      continue;
    }
    const modifiedMs = entry.modifiedMs ?? (await modifiedOf?.(entry.name).catch(() => undefined));
    if (isLeftoverStale({ owner: parsed.owner, modifiedMs })) stale.push(entry.name);
  }
  return stale;
}
