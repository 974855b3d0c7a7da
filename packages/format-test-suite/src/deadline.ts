import { assert } from 'vitest';

/** How an operation ended, or that it did not within its time. */
export type Outcome<T> = { kind: 'value'; value: T } | { kind: 'error'; error: unknown } | { kind: 'timeout' };

/** Wait for `operation` at most `milliseconds`; never throws. */
export async function settle<T>(operation: Promise<T>, milliseconds: number): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Outcome<T>>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'timeout' }), milliseconds);
  });
  try {
    return await Promise.race([
      operation.then(
        (value): Outcome<T> => ({ kind: 'value', value }),
        (error: unknown): Outcome<T> => ({ kind: 'error', error }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Await `operation`, failing the check with "`what` did not finish within N s" when it hangs. */
export async function within<T>(operation: Promise<T>, milliseconds: number, what: string): Promise<T> {
  const outcome = await settle(operation, milliseconds);
  if (outcome.kind === 'timeout') assert.fail(`${what} did not finish within ${milliseconds / 1000} s`);
  if (outcome.kind === 'error') throw outcome.error;
  return outcome.value;
}
