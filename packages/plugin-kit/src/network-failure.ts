import { isBentoportError, type BentoportError, type ErrorCode } from '@bentoport/spec';
import { abortedFailure } from './coded-errors.js';
import { pluginFailure } from './plugin-failure.js';
import { isTlsVerificationError, isTransientNetworkError, systemErrorCode } from './transient-errors.js';

/** Options of {@link networkFailure}: what the protocol knows that the common rules do not. */
export interface NetworkFailureOptions {
  /** Known secret values (a password, a passphrase) to hide as whole tokens, beside URL passwords. @default [] */
  secrets?: readonly string[];
  /** The caller's signal: once it has fired, any failure is `ERR_ABORTED`. @default undefined (only abort errors are ERR_ABORTED) */
  signal?: AbortSignal | undefined;
  /**
   * The protocol's code for errors it recognises (an FTP 530 reply is `ERR_AUTH`, an S3
   * `NoSuchKey` is `ERR_NOT_FOUND`); undefined leaves the error to the common rules (`ERR_IO`).
   * @default undefined (the common rules only)
   */
  code?: (error: unknown) => ErrorCode | undefined;
  /** The reason the message gives; undefined for the error's own message (with its system code). @default undefined (the error's own message) */
  reason?: (error: unknown) => string | undefined;
  /** Whether another attempt may succeed: marks the failure `transient`. @default isTransientNetworkError */
  isRetryable?: (error: unknown) => boolean;
}

/** Node's, undici's and the DOM's ways of saying "cancelled by the caller". */
function isAbortError(error: unknown): boolean {
  const code = systemErrorCode(error);
  return code === 'ABORT_ERR' || code === 'UND_ERR_ABORTED' || (error as Error | undefined)?.name === 'AbortError';
}

/** The error's message, prefixed with its system code when the message does not already say it (a timeout says it in words). */
function describe(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).trim() || 'failed';
  const code = systemErrorCode(error);
  if (code === undefined || message.includes(code) || (error as Error | undefined)?.name === 'TimeoutError') return message;
  return `${code}: ${message}`;
}

/**
 * Turn anything a network SDK or socket threw into the plugin's one-line coded error,
 * `[component] OPERATION target: reason`, with secrets redacted and the original as `cause`:
 *
 * - a BentoportError is returned as it is;
 * - once `signal` fired, or for an abort error, `ERR_ABORTED`;
 * - a TLS certificate that did not verify is `ERR_AUTH`, with a hint to pass the `ca` option;
 * - otherwise the protocol's `code(error)`, else `ERR_IO`, marked `transient` when
 *   `isRetryable(error)`, so the retry loops ({@link withRetry}) read one mark.
 * @example
 * ```ts
 * catch (error) {
 *   throw networkFailure('transport-ftp', 'RETR', location.display, error, { secrets, signal, code: ftpReplyCode, isRetryable: isTransientFtpError });
 * }
 * ```
 */
export function networkFailure(component: string, operation: string, target: string, error: unknown, options: NetworkFailureOptions = {}): BentoportError {
  if (isBentoportError(error)) return error;
  const { secrets = [], signal } = options;
  if (signal?.aborted) return abortedFailure(component, operation, target, signal);
  if (isAbortError(error)) return pluginFailure(component, 'ERR_ABORTED', operation, target, 'aborted', { cause: error, secrets });
  if (isTlsVerificationError(error)) {
    const reason = `the server's TLS certificate was not verified (${describe(error)}); trust its CA with the \`ca\` option`;
    return pluginFailure(component, 'ERR_AUTH', operation, target, reason, { cause: error, secrets });
  }
  const code = options.code?.(error) ?? 'ERR_IO';
  const reason = options.reason?.(error) ?? describe(error);
  return pluginFailure(component, code, operation, target, reason, { cause: error, secrets, transient: (options.isRetryable ?? isTransientNetworkError)(error) });
}

/**
 * The error a plugin's own timer fails a silent connection or request with: a `TimeoutError` with
 * code `ETIMEDOUT` (transient, so it is retried), its message naming the option that set the limit.
 * @example timeoutError('no reply to STAT', 30000, 'timeoutMs') // "no reply to STAT within 30000 ms (timeoutMs)"
 */
export function timeoutError(what: string, milliseconds: number, option: 'timeoutMs' | 'connectTimeoutMs'): Error & { code: 'ETIMEDOUT' } {
  const error = Object.assign(new Error(`${what} within ${milliseconds} ms (${option})`), { code: 'ETIMEDOUT' as const });
  error.name = 'TimeoutError';
  return error;
}
