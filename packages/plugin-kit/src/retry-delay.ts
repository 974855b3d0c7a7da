import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The first backoff of every network plugin. With the default 3 retries the waits add up to
 * 3.5-7 s (0.5-1 s, 1-2 s, 2-4 s with the jitter): enough to ride out a server or proxy that
 * restarts (sshd, nginx, a registry, refusing connections for a few seconds), which a shorter
 * first delay (250 ms gave 0.9-1.75 s in all) turned into a failed transfer.
 */
export const DEFAULT_RETRY_DELAY_MS = 1000;

export interface BackoffOptions {
  /** Delay before the first retry, in milliseconds. @default 1000 */
  baseMilliseconds?: number;
  /** Longest delay, in milliseconds. @default 8000 */
  maxMilliseconds?: number;
}

/**
 * The delay before retry number `attempt` (1 for the first retry): exponential from
 * `baseMilliseconds`, capped, with "full jitter" so clients cut off together do not come back
 * together.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = options.baseMilliseconds ?? DEFAULT_RETRY_DELAY_MS;
  const max = options.maxMilliseconds ?? 8000;
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Wait `milliseconds`; rejects with the signal's reason when it fires. */
export async function delayUnlessAborted(milliseconds: number, signal?: AbortSignal): Promise<void> {
  await sleep(milliseconds, undefined, { signal });
}
