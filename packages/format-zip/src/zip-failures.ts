import type { BentoportError, BentoportErrorOptions, ErrorCode } from '@bentoport/spec';
import { pluginFailure } from '@bentoport/plugin-kit';

/** `[format-zip] read zip: reason` (or `write zip`), coded, with the original error as `cause`. */
export function zipFailure(operation: 'read' | 'write', code: ErrorCode, reason: string, options: BentoportErrorOptions = {}): BentoportError {
  return pluginFailure('format-zip', code, operation, 'zip', reason, options);
}

/** The bytes are not a whole, valid zip: ERR_CORRUPT_ARCHIVE. */
export function corrupt(reason: string, cause?: unknown): BentoportError {
  return zipFailure('read', 'ERR_CORRUPT_ARCHIVE', reason, cause === undefined ? {} : { cause });
}
