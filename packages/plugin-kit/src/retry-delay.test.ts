import { describe, expect, it } from 'vitest';
import { backoffDelay, delayUnlessAborted } from './retry-delay.js';

describe('backoffDelay', () => {
  it('doubles from the base up to the cap, with jitter in the upper half', () => {
    expect(backoffDelay(1, { baseMilliseconds: 100 }, () => 0)).toBe(50);
    expect(backoffDelay(1, { baseMilliseconds: 100 }, () => 1)).toBe(100);
    expect(backoffDelay(3, { baseMilliseconds: 100 }, () => 1)).toBe(400);
    expect(backoffDelay(20, { baseMilliseconds: 100, maxMilliseconds: 1000 }, () => 1)).toBe(1000);
  });

  it('stops waiting when the signal fires', async () => {
    const controller = new AbortController();
    const waiting = delayUnlessAborted(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow();
  });
});
