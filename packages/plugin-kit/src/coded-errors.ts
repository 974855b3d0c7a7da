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

/**
 * The ERR_ABORTED a plugin throws once the caller's signal fired:
 * `[component] OPERATION target: aborted`, the signal's reason as `cause`.
 */
export function abortedFailure(component: string, operation: string, target: string, signal?: AbortSignal): BentoportError {
  return new BentoportError('ERR_ABORTED', redact(`[${component}] ${operation} ${target}: aborted`), { cause: signal?.reason });
}

/**
 * Throw ERR_ABORTED if the signal has fired: `what was aborted`, or, given a component, an
 * operation and a target, the plugin's one-line {@link abortedFailure}.
 */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void;
export function throwIfAborted(signal: AbortSignal | undefined, component: string, operation: string, target: string): void;
export function throwIfAborted(signal: AbortSignal | undefined, what: string, operation?: string, target?: string): void {
  if (!signal?.aborted) return;
  if (operation !== undefined && target !== undefined) throw abortedFailure(what, operation, target, signal);
  throw new BentoportError('ERR_ABORTED', `${what} was aborted`, { cause: signal.reason });
}
