import { setTimeout as sleep } from 'node:timers/promises';

export interface BackoffOptions {
  /** Delay before the first retry, in milliseconds. @default 250 */
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
  const base = options.baseMilliseconds ?? 250;
  const max = options.maxMilliseconds ?? 8000;
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Wait `milliseconds`; rejects with the signal's reason when it fires. */
export async function delayUnlessAborted(milliseconds: number, signal?: AbortSignal): Promise<void> {
  await sleep(milliseconds, undefined, { signal });
}
