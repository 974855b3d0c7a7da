import { BentoportError, isBentoportError, type ErrorCode } from '@bentoport/spec';
import { redact } from './redaction.js';

/** Turn a Node system error into a coded error, keeping one that is already coded. */
export function toBentoportError(error: unknown, component: string, operation: string, target: string): BentoportError {
  if (isBentoportError(error)) return error;
  const systemCode = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason = error instanceof Error ? error.message : String(error);
  const code: ErrorCode =
    systemCode === 'ENOENT' ? 'ERR_NOT_FOUND'
    : systemCode === 'EEXIST' ? 'ERR_ALREADY_EXISTS'
    : systemCode === 'ABORT_ERR' || (error as Error | undefined)?.name === 'AbortError' ? 'ERR_ABORTED'
    : systemCode === 'ENOTDIR' ? 'ERR_NOT_FOUND'
    : systemCode === 'EISDIR' ? 'ERR_INVALID_TARGET'
    : systemCode === 'EACCES' || systemCode === 'EPERM' ? 'ERR_PERMISSION'
    : 'ERR_IO';
  return new BentoportError(code, redact(`[${component}] ${operation} ${target}: ${reason}`), { cause: error });
}

/** Throw ERR_ABORTED if the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) {
    throw new BentoportError('ERR_ABORTED', `${what} was aborted`, { cause: signal.reason });
  }
}
