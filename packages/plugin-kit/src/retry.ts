import { backoffDelay, DEFAULT_RETRY_DELAY_MS, delayUnlessAborted } from './retry-delay.js';
import { isTransientNetworkError } from './transient-errors.js';

/** How {@link withRetry} and {@link retryBudget} retry. */
export interface RetryOptions {
  /** Attempts after the first (after the last progress, for a {@link retryBudget}). @default 3 */
  retries?: number;
  /** Delay before the first retry in milliseconds; it doubles with full jitter up to 8 s. @default 1000 */
  retryDelayMs?: number;
  /** Which failures are worth another attempt. @default isTransientNetworkError */
  isRetryable?: (error: unknown) => boolean;
  /**
   * Told before each retry: the retry about to start (1 for the first one, counted again from 1
   * after progress, so it never passes `retries`), the delay, and why. {@link reportRetries}
   * makes one that reports progress events. @default undefined (not told)
   */
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
  /** Stops the loop: no attempt starts and no delay runs once it fires. @default undefined (runs until done or spent) */
  signal?: AbortSignal | undefined;
}

/**
 * The retry decisions of one resumable piece of work (a download resumed from its last byte, an
 * upload continued where the server left off), for loops that are driven by stream callbacks and
 * cannot be written as one {@link withRetry} call.
 */
export interface RetryBudget {
  /** Failures counted since the work last moved forward. */
  readonly failures: number;
  /**
   * Call after a failure. Resolves once the backoff delay has passed when another attempt may
   * start; rejects with `error` itself when it may not: not retryable, retries spent, or the
   * signal fired (before or during the delay).
   *
   * `progressed`: the work moved forward since the previous failure (bytes arrived, or the
   * server stored more). The count then starts again, so a long transfer that is cut now and
   * then still finishes; it stays bounded, because every fresh start needs progress on finite work.
   */
  afterFailure(error: unknown, progressed?: boolean): Promise<void>;
  /**
   * After `error`, wait and run `attempt` until it succeeds, each of its failures counting too;
   * rejects with the last failure as it was once the budget is spent. `progressed` is
   * {@link RetryBudget.afterFailure}'s, for `error`.
   */
  retry<T>(error: unknown, attempt: () => Promise<T>, progressed?: boolean): Promise<T>;
}

/**
 * A {@link RetryBudget}: at most `retries` retries in a row without progress, each after an
 * exponential backoff with full jitter.
 * @example
 * ```ts
 * const budget = retryBudget({ retries: options.retries, retryDelayMs: options.retryDelayMs, signal });
 * // in the stream's error handler:
 * budget.afterFailure(error, position > positionAtLastFailure).then(resumeFromPosition, (final) => output.destroy(final));
 * ```
 */
export function retryBudget(options: RetryOptions = {}): RetryBudget {
  const retries = options.retries ?? 3;
  const isRetryable = options.isRetryable ?? isTransientNetworkError;
  let failures = 0;
  async function afterFailure(error: unknown, progressed = false): Promise<void> {
    failures = progressed ? 1 : failures + 1;
    if (failures > retries || options.signal?.aborted || !isRetryable(error)) throw error;
    const delayMs = backoffDelay(failures, { baseMilliseconds: options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS });
    options.onRetry?.(failures, delayMs, error);
    try {
      await delayUnlessAborted(delayMs, options.signal);
    } catch {
      throw error;
    }
  }
  return {
    get failures() {
      return failures;
    },
    afterFailure,
    async retry(error, attempt, progressed = false) {
      await afterFailure(error, progressed);
      // Bounded: every failure of `attempt` is counted by afterFailure, which stops the loop.
      for (;;) {
        try {
          return await attempt();
        } catch (next) {
          await afterFailure(next);
        }
      }
    },
  };
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
  let attemptNumber = 0;
  try {
    return await attempt(attemptNumber);
  } catch (error) {
    return retryBudget(options).retry(error, () => attempt(++attemptNumber));
  }
}
