import { isBentoportError, type Operation, type ProgressListener, type RetryDetails } from '@bentoport/spec';
import type { RetryOptions } from './retry.js';

/** What {@link reportRetries} needs to word a retry. */
export interface RetryReportOptions {
  /** Where the `warning` events go; without it nothing is reported. @default undefined */
  onProgress?: ProgressListener | undefined;
  /** The operation to stamp (core stamps its own over it). */
  operation: Operation;
  /** What is retried, as messages name it: `HEAD http://host/x.bento`. */
  target: string;
  /** The retries the loop allows after the first attempt, as given to the loop. */
  retries: number;
}

/**
 * A failure in a few words for a retry line: the first system code in its cause chain
 * (`ECONNRESET`), else the last clause of its message (`503`). A coded error's own `ERR_*` code
 * says less than its cause, so it is skipped.
 */
export function retryReason(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && !isBentoportError(current)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  const message = error instanceof Error ? error.message : String(error);
  return message.slice(message.lastIndexOf(': ') + 1).trim() || 'failed';
}

/** `0.3 s` below a second, whole seconds above: a retry line is read, not parsed. */
function seconds(milliseconds: number): string {
  return milliseconds < 1000 ? `${(milliseconds / 1000).toFixed(1)} s` : `${Math.round(milliseconds / 1000)} s`;
}

/** The words of a retry line: `retrying HEAD http://h/x (attempt 2/4, next in 2 s): ECONNRESET`. */
export function retryMessage(details: RetryDetails): string {
  return `retrying ${details.target} (attempt ${details.attempt}/${details.attempts}, next in ${seconds(details.delayMs)}): ${details.reason}`;
}

/**
 * An `onRetry` for {@link RetryOptions} that tells `onProgress` of each retry as a `warning`
 * event with `retry` details, so a user sees why a transfer waits instead of a silent pause.
 * Undefined when there is no listener, so the loop stays as it was.
 * @example
 * ```ts
 * await withRetry(attempt, { retries, signal, onRetry: reportRetries({ onProgress, operation: 'import', target: `GET ${display}`, retries }) });
 * ```
 */
export function reportRetries(options: RetryReportOptions): RetryOptions['onRetry'] {
  const { onProgress, operation, target, retries } = options;
  if (onProgress === undefined) return undefined;
  return (attempt, delayMs, error) => {
    const retry: RetryDetails = { attempt: attempt + 1, attempts: retries + 1, delayMs, reason: retryReason(error), target };
    onProgress({ type: 'warning', operation, message: retryMessage(retry), retry });
  };
}
