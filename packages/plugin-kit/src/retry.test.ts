import { connect, createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { NETWORK_DEFAULTS } from './network-options.js';
import { retryBudget, withRetry } from './retry.js';

/** Connect to 127.0.0.1:port; rejects with the socket's error (ECONNREFUSED while nothing listens). */
function connectOnce(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

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

  it('with the default retries and delay, rides out a server that refuses connections for 3 s while it restarts', async () => {
    const server = createServer((socket) => socket.destroy());
    const port = await listen(server);
    await new Promise((resolve) => server.close(resolve));
    // Down as the first attempt is made, back 3 s later (the fault harness's longest net-restart).
    const restarted = new Promise((resolve) => setTimeout(resolve, 3000)).then(() => listen(server, port));
    const refusals: string[] = [];
    try {
      await withRetry(() => connectOnce(port), { retries: NETWORK_DEFAULTS.retries, onRetry: (_attempt, _delayMs, error) => refusals.push((error as NodeJS.ErrnoException).code ?? '') });
      expect(refusals.length).toBeGreaterThan(0);
      expect(new Set(refusals)).toEqual(new Set(['ECONNREFUSED']));
    } finally {
      await restarted;
      await new Promise((resolve) => server.close(resolve));
    }
  }, 15_000);

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

describe('retryBudget', () => {
  it('allows `retries` failures in a row and starts counting again after progress', async () => {
    const budget = retryBudget({ retries: 2, retryDelayMs: 1 });
    await budget.afterFailure(reset());
    await budget.afterFailure(reset());
    expect(budget.failures).toBe(2);
    await budget.afterFailure(reset(), true);
    expect(budget.failures).toBe(1);
    await budget.afterFailure(reset());
    const last = reset();
    await expect(budget.afterFailure(last)).rejects.toBe(last);
  });

  it('rejects at once with the error itself when it is not retryable or the signal fired', async () => {
    const bug = new TypeError('bug');
    await expect(retryBudget({ retryDelayMs: 1 }).afterFailure(bug)).rejects.toBe(bug);
    const controller = new AbortController();
    const budget = retryBudget({ retryDelayMs: 60_000, signal: controller.signal });
    const error = reset();
    const waiting = budget.afterFailure(error);
    controller.abort();
    await expect(waiting).rejects.toBe(error);
  });

  it('retries an attempt after a failure until it succeeds or the budget is spent', async () => {
    const budget = retryBudget({ retries: 2, retryDelayMs: 1 });
    let reopened = 0;
    await expect(budget.retry(reset(), async () => ++reopened)).resolves.toBe(1);
    const last = reset();
    await expect(budget.retry(reset(), async () => {
      throw last;
    }, true)).rejects.toBe(last);
  });

  it('takes the protocol classification', async () => {
    const busy = Object.assign(new Error('450 busy'), { code: 450 });
    await expect(retryBudget({ retryDelayMs: 1, isRetryable: (error) => (error as { code?: unknown }).code === 450 }).afterFailure(busy)).resolves.toBeUndefined();
  });
});
