import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { currentOwner, formatOwner, isLeftoverStale, type LeftoverOwner } from './leftover-owner.js';

/** Records read per sweep at most: bounds the loop over a directory nobody cleaned. */
const MAX_RECORDS_PER_SWEEP = 1000;

/**
 * Where bentoport keeps state that must survive the process: `$BENTOPORT_STATE_DIR`, else
 * `$XDG_STATE_HOME/bentoport`, else `~/.local/state/bentoport`.
 */
export function bentoportStateDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BENTOPORT_STATE_DIR) return path.resolve(env.BENTOPORT_STATE_DIR);
  const base = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(env.HOME ?? homedir(), '.local', 'state');
  return path.join(base, 'bentoport');
}

/**
 * One server-side upload in flight (an S3 multipart upload, an OCI upload session), as written
 * down before it can leave anything on the server. Never holds credentials.
 */
export interface UploadRecord {
  /** The plugin that started it: `transport-s3`. */
  component: string;
  /** What a later write must target to sweep it: endpoint + bucket + key, registry + repository. */
  scope: string;
  /** What the plugin needs to remove it: an upload id, a session URL. */
  upload: string;
  /** The plugin's own facts (the key, a display form for messages). @default {} */
  details?: Record<string, string>;
}

/** A record read back, with who wrote it and when. */
export interface JournalRecord extends UploadRecord {
  owner: LeftoverOwner;
  /** The record file's mtime, ms since the epoch. */
  modifiedMs: number;
  /** Its writer is gone (see {@link UploadJournal.stale}): what a killed run left. */
  stale: boolean;
  /** Removes the record (best effort, never throws). */
  remove(): Promise<void>;
}

/** A record this process wrote, for as long as its upload is in flight. */
export interface RecordedUpload {
  /**
   * Write a new `upload` (an upload session's URL changes as bytes arrive, an id arrives after
   * the request that made it), and `details` merged over the earlier ones. Never throws.
   */
  update(upload: string, details?: Record<string, string>): Promise<void>;
  /** Remove the record, once the upload is completed or aborted. Never throws. */
  remove(): Promise<void>;
}

/** What {@link uploadJournal} gives: write down, and read back the stale records of a scope. */
export interface UploadJournal {
  /**
   * Write the record down before the upload can leave anything behind. Best effort: when the
   * state directory is not writable, the upload goes on and only the crash recovery is lost.
   */
  record(record: UploadRecord): Promise<RecordedUpload>;
  /**
   * The records of `component` for `scope` whose writer is gone (exited on this host, or idle
   * past `LEFTOVER_STALE_AFTER_MS`): what killed runs left. Never throws (an unreadable
   * directory has none).
   */
  stale(component: string, scope: string): Promise<JournalRecord[]>;
  /**
   * Every record of `component` for `scope`, live writers' too, each with `stale` set: what a
   * sweep must leave alone is named by the live ones. Never throws.
   */
  list(component: string, scope: string): Promise<JournalRecord[]>;
}

/** Options of {@link uploadJournal}. */
export interface UploadJournalOptions {
  /** Where the records go. @default `<bentoportStateDirectory()>/leftovers` */
  directory?: string | undefined;
}

interface StoredRecord extends UploadRecord {
  version: 1;
  owner: LeftoverOwner;
}

/** Record files of one scope share a prefix, so a sweep reads only its own. */
function scopePrefix(component: string, scope: string): string {
  return `${component}-${createHash('sha256').update(scope).digest('hex').slice(0, 16)}-`;
}

async function readRecord(file: string): Promise<{ stored: StoredRecord; modifiedMs: number } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    const stored = JSON.parse(text) as StoredRecord;
    if (stored.version !== 1 || typeof stored.upload !== 'string' || typeof stored.owner?.pid !== 'number') return undefined;
    return { stored, modifiedMs: info.mtimeMs };
  } catch {
    return undefined;
  }
}

/**
 * A journal of server-side uploads in flight, one small JSON file each, so that an upload a
 * SIGKILL interrupted (no `abort` could run) is found and removed by the next write to the same
 * scope. Server-side uploads have no name to tag with an owner, unlike temporary files.
 *
 * @example
 * ```ts
 * const journal = uploadJournal();
 * for (const leftover of await journal.stale('transport-s3', scope)) { await abortIt(leftover.upload); await leftover.remove(); }
 * const recorded = await journal.record({ component: 'transport-s3', scope, upload: uploadId });
 * // … upload, complete or abort …
 * await recorded.remove();
 * ```
 */
export function uploadJournal(options: UploadJournalOptions = {}): UploadJournal {
  const directory = (): string => options.directory ?? path.join(bentoportStateDirectory(), 'leftovers');

  async function record(entry: UploadRecord): Promise<RecordedUpload> {
    const owner = currentOwner();
    const file = path.join(directory(), `${scopePrefix(entry.component, entry.scope)}${formatOwner(owner)}-${randomBytes(6).toString('hex')}.json`);
    let removed = false;
    let details = entry.details;
    const write = async (upload: string): Promise<boolean> => {
      const stored: StoredRecord = { version: 1, ...entry, ...(details === undefined ? {} : { details }), upload, owner };
      try {
        await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
        // Temp + rename: a reader never sees half a record.
        await writeFile(`${file}.partial`, JSON.stringify(stored), { mode: 0o600 });
        await rename(`${file}.partial`, file);
        return true;
      } catch {
        await rm(`${file}.partial`, { force: true }).catch(() => {});
        return false;
      }
    };
    const written = await write(entry.upload);
    // One write at a time, and none after the removal: a late rename must not bring a record back.
    let writing: Promise<unknown> = Promise.resolve();
    return {
      update: async (upload, moreDetails) => {
        if (!written) return;
        if (moreDetails !== undefined) details = { ...details, ...moreDetails };
        writing = writing.then(() => (removed ? undefined : write(upload)));
        await writing;
      },
      remove: async () => {
        removed = true;
        await writing;
        if (written) await rm(file, { force: true }).catch(() => {});
      },
    };
  }

  async function list(component: string, scope: string): Promise<JournalRecord[]> {
    const prefix = scopePrefix(component, scope);
    let names: string[];
    try {
      names = (await readdir(directory())).filter((name) => name.startsWith(prefix) && name.endsWith('.json'));
    } catch {
      return [];
    }
    const found: JournalRecord[] = [];
    for (const name of names.slice(0, MAX_RECORDS_PER_SWEEP)) {
      const file = path.join(directory(), name);
      const read = await readRecord(file);
      // Another scope whose hash prefix collides, or a record of another version: not ours.
      if (read === undefined || read.stored.component !== component || read.stored.scope !== scope) continue;
      const { stored, modifiedMs } = read;
      found.push({
        component: stored.component,
        scope: stored.scope,
        upload: stored.upload,
        details: stored.details ?? {},
        owner: stored.owner,
        modifiedMs,
        stale: isLeftoverStale({ owner: stored.owner, modifiedMs }),
        remove: () => rm(file, { force: true }).catch(() => {}),
      });
    }
    return found;
  }

  async function stale(component: string, scope: string): Promise<JournalRecord[]> {
    return (await list(component, scope)).filter((found) => found.stale);
  }

  return { record, stale, list };
}
