import { describe, expect, it } from 'vitest';
import { withRetry } from './retry.js';

const reset = () => Object.assign(new Error('reset'), { code: 'ECONNRESET' });

describe('withRetry', () => {
  it('retries transient failures and returns the first success', async () => {
    const seen: number[] = [];
    const result = await withRetry(
      async (attempt) => {
        if (attempt < 2) throw reset();
        return 'done';
      },
      { retries: 3, retryDelayMs: 1, onRetry: (attempt) => seen.push(attempt) },
    );
    expect(result).toBe('done');
    expect(seen).toEqual([1, 2]);
  });

  it('gives up after the retries and throws the last error unchanged', async () => {
    let attempts = 0;
    const error = reset();
    await expect(withRetry(async () => {
      attempts++;
      throw error;
    }, { retries: 2, retryDelayMs: 1 })).rejects.toBe(error);
    expect(attempts).toBe(3);
  });

  it('does not retry what is not transient, nor after the signal fired', async () => {
    let attempts = 0;
    await expect(withRetry(async () => {
      attempts++;
      throw new TypeError('bug');
    }, { retryDelayMs: 1 })).rejects.toThrow('bug');
    expect(attempts).toBe(1);
    const controller = new AbortController();
    controller.abort();
    await expect(withRetry(async () => {
      attempts++;
      throw reset();
    }, { retryDelayMs: 1, signal: controller.signal })).rejects.toThrow('reset');
    expect(attempts).toBe(2);
  });
});
