import { setTimeout as sleep } from 'node:timers/promises';
import { isRetryable } from './s3-errors.js';

export interface RetrySettings {
  /** Attempts after the first. */
  retries: number;
  /** First delay; each next one doubles, with jitter, up to 10 s. */
  baseDelayMilliseconds: number;
  signal: AbortSignal | undefined;
}

const MAX_DELAY_MILLISECONDS = 10_000;

/**
 * Run `attempt` until it resolves, it fails with an error that trying again cannot fix (a 4xx,
 * a coded error), the retries are used up, or the signal fires. Every loop here is bounded.
 */
export async function withRetries<T>(attempt: (attemptNumber: number) => Promise<T>, settings: RetrySettings): Promise<T> {
  for (let attemptNumber = 0; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (attemptNumber >= settings.retries || settings.signal?.aborted || !isRetryable(error)) throw error;
      const delay = Math.min(MAX_DELAY_MILLISECONDS, settings.baseDelayMilliseconds * 2 ** attemptNumber);
      await sleep(delay / 2 + Math.random() * (delay / 2), undefined, { signal: settings.signal }).catch(() => {});
    }
  }
}
