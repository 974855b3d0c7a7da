import path from 'node:path';
import { BentoportError, toBentoportError, type ErrorCode, type Location } from '@bentoport/core';

export const COMPONENT = 'transport-fs';

/** `[transport-fs] <OP> <display>: <reason>`, with the original error as `cause`. */
export function fsFailure(code: ErrorCode, operation: string, location: Location, reason: string, cause?: unknown): BentoportError {
  return new BentoportError(code, `[${COMPONENT}] ${operation} ${location.display}: ${reason}`, cause === undefined ? {} : { cause });
}

/** Map a Node system error to the error family (core maps ENOENT, ENOTDIR, EISDIR, EACCES, …). */
export function fromSystemError(error: unknown, operation: string, location: Location): BentoportError {
  return toBentoportError(error, COMPONENT, operation, location.display);
}

export function abortedFailure(operation: string, location: Location, signal: AbortSignal): BentoportError {
  return fsFailure('ERR_ABORTED', operation, location, 'aborted', signal.reason);
}

export function throwIfSignalAborted(signal: AbortSignal | undefined, operation: string, location: Location): void {
  if (signal?.aborted) throw abortedFailure(operation, location, signal);
}

/** The local path of a `file` location, checked: another protocol or a relative path is refused. */
export function localPath(location: Location, operation: string): string {
  if (location.protocol !== 'file') {
    throw fsFailure('ERR_UNSUPPORTED_PROTOCOL', operation, location, `protocol ${location.protocol} is not file`);
  }
  if (!path.isAbsolute(location.path)) {
    throw fsFailure('ERR_INVALID_TARGET', operation, location, `${location.path} is not an absolute path`);
  }
  return location.path;
}
