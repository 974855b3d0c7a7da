import { backoffDelay, delayUnlessAborted } from './retry-delay.js';
import { isTransientNetworkError } from './transient-errors.js';

/** How {@link withRetry} retries. */
export interface RetryOptions {
  /** Attempts after the first. @default 3 */
  retries?: number;
  /** Delay before the first retry in milliseconds; it doubles with full jitter up to 8 s. @default 250 */
  retryDelayMs?: number;
  /** Which failures are worth another attempt. @default isTransientNetworkError */
  isRetryable?: (error: unknown) => boolean;
  /** Told before each retry: the attempt about to start (1 for the first retry), the delay, and why. */
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
  /** Stops the loop: no attempt starts and no delay runs once it fires. */
  signal?: AbortSignal;
}

/**
 * Run `attempt` until it resolves, fails with an error that is not retryable, the retries are
 * spent, or the signal fires; then the last error is thrown as it was. Bounded: at most
 * `retries + 1` attempts, each delay at most 8 s.
 * @example
 * ```ts
 * const body = await withRetry(() => fetchRange(url, start), { retries: options.retries, signal });
 * ```
 */
export async function withRetry<T>(attempt: (attemptNumber: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const retries = options.retries ?? 3;
  const isRetryable = options.isRetryable ?? isTransientNetworkError;
  for (let attemptNumber = 0; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (attemptNumber >= retries || options.signal?.aborted || !isRetryable(error)) throw error;
      const delayMs = backoffDelay(attemptNumber + 1, { baseMilliseconds: options.retryDelayMs ?? 250 });
      options.onRetry?.(attemptNumber + 1, delayMs, error);
      try {
        await delayUnlessAborted(delayMs, options.signal);
      } catch {
        throw error;
      }
    }
  }
}
