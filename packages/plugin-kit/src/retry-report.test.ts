import type { ProgressEvent } from '@bentoport/spec';
import { describe, expect, it } from 'vitest';
import { pluginFailure } from './plugin-failure.js';
import { retryBudget, withRetry } from './retry.js';
import { reportRetries, retryReason } from './retry-report.js';

const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });

describe('reportRetries', () => {
  it('tells each retry as a warning with the attempt, the attempts, the delay and the reason', async () => {
    const events: ProgressEvent[] = [];
    const onRetry = reportRetries({ onProgress: (event) => events.push(event), operation: 'import', target: 'GET http://host/x.bento', retries: 3 });
    let attempts = 0;
    await withRetry(
      async () => {
        if (++attempts < 3) throw reset();
      },
      { retries: 3, retryDelayMs: 1, ...(onRetry ? { onRetry } : {}) },
    );
    expect(events.map((event) => (event.type === 'warning' ? event.retry?.attempt : undefined))).toEqual([2, 3]);
    const first = events[0] as Extract<ProgressEvent, { type: 'warning' }>;
    expect(first.retry).toMatchObject({ attempt: 2, attempts: 4, reason: 'ECONNRESET', target: 'GET http://host/x.bento' });
    expect(first.message).toMatch(/^retrying GET http:\/\/host\/x\.bento \(attempt 2\/4, next in 0\.0 s\): ECONNRESET$/);
  });

  it('counts again from the first retry after progress, so the attempt never passes the attempts', async () => {
    const seen: number[] = [];
    const budget = retryBudget({ retries: 2, retryDelayMs: 1, onRetry: (attempt) => seen.push(attempt) });
    await budget.afterFailure(reset());
    await budget.afterFailure(reset());
    await budget.afterFailure(reset(), true);
    await budget.afterFailure(reset());
    expect(seen).toEqual([1, 2, 1, 2]);
  });

  it('reports nothing without a listener, and names a coded failure by its cause', () => {
    expect(reportRetries({ operation: 'push', target: 'x', retries: 3 })).toBeUndefined();
    expect(retryReason(pluginFailure('transport-x', 'ERR_IO', 'GET', 'http://h/x', 'connect refused', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) }))).toBe('ECONNREFUSED');
    expect(retryReason(pluginFailure('transport-x', 'ERR_IO', 'GET', 'http://h/x', '503'))).toBe('503');
  });
});
