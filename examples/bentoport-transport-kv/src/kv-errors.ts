import type { BentoportError, ErrorCode, Location } from '@bentoport/spec';
import { pluginFailure, toBentoportError } from '@bentoport/plugin-kit';

/** The transport's name, as every message shows it. */
export const COMPONENT = 'transport-kv';

/** `[transport-kv] OPERATION kv://bucket/key: reason`, one line, the original error as `cause`. */
export function kvFailure(code: ErrorCode, operation: string, location: Location, reason: string, cause?: unknown): BentoportError {
  return pluginFailure(COMPONENT, code, operation, location.display, reason, cause === undefined ? {} : { cause });
}

/** A file system error as a coded error: ENOENT is ERR_NOT_FOUND, EACCES ERR_PERMISSION, and so on. */
export function fromSystemError(error: unknown, operation: string, location: Location): BentoportError {
  return toBentoportError(error, COMPONENT, operation, location.display);
}
