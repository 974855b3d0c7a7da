import { BentoportError, type ArchiveEntry, type ErrorCode } from '@bentoport/spec';

/**
 * The line archive, byte for byte:
 *
 * ```
 * bentoport-lines 1\n
 * {"path":"a","type":"directory","mode":493,"mtime":1700000000,"size":0}\n
 * {"path":"a/b.txt","type":"file","mode":420,"mtime":1700000000,"size":5}\n hello \n
 * {"end":2,"sha256":"<hex SHA-256 of every byte before this line>"}\n
 * ```
 *
 * One JSON header line per entry (keys always in this order, so equal entries give equal bytes),
 * a file's body right after its header followed by `\n`, and a trailer that counts the entries and
 * hashes everything before it, so truncation and damage anywhere are detected.
 */
export const MAGIC = 'bentoport-lines 1\n';
export const COMPONENT = 'format-lines';
export const TOKEN = 'lines';
/** Headers longer than this are damage (a path is at most a few KiB). */
export const MAX_HEADER_BYTES = 64 * 1024;

/** An entry's header line: the entry without its body. */
export type EntryHeader = Pick<ArchiveEntry, 'path' | 'type' | 'mode' | 'mtime' | 'size' | 'linkTarget'>;

export interface Trailer {
  end: number;
  sha256: string;
}

export function headerLine(entry: ArchiveEntry): string {
  const header: EntryHeader = { path: entry.path, type: entry.type, mode: entry.mode, mtime: entry.mtime, size: entry.type === 'file' ? entry.size : 0 };
  if (entry.linkTarget !== undefined) header.linkTarget = entry.linkTarget;
  return `${JSON.stringify(header)}\n`;
}

export function trailerLine(trailer: Trailer): string {
  return `${JSON.stringify(trailer)}\n`;
}

export function lineFailure(code: ErrorCode, operation: string, reason: string, cause?: unknown): BentoportError {
  return new BentoportError(code, `[${COMPONENT}] ${operation}: ${reason}`, cause === undefined ? {} : { cause });
}
