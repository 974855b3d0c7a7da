import { isBentoportError, type ErrorCode } from '@bentoport/spec';
import { assert } from 'vitest';

/** An assertion of a check (vitest's `assert`), as opposed to an error of the registry under test. */
export function isAssertionError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AssertionError';
}

/** What an error is, in one line: its code when it has one. */
export function describeError(error: unknown): string {
  if (isBentoportError(error)) return `BentoportError ${error.code}: ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return `a non-Error value: ${String(error)}`;
}

/** How long one registry operation may take before the suite calls it a hang. */
export const OPERATION_MILLISECONDS = 60_000;

/**
 * Run `operation`, bounded in time, and require it to reject with a BentoportError of `code`;
 * returns the error for further checks.
 */
export async function expectRejects(operation: () => Promise<unknown>, code: ErrorCode, what: string, milliseconds = OPERATION_MILLISECONDS): Promise<Error> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), milliseconds);
  });
  const outcome = await Promise.race([
    operation().then(
      () => 'resolved' as const,
      (error: unknown) => ({ error }),
    ),
    timeout,
  ]).finally(() => clearTimeout(timer));
  if (outcome === 'timeout') assert.fail(`${what} did not settle within ${milliseconds / 1000} s; the contract says it rejects with ${code}`);
  if (outcome === 'resolved') assert.fail(`${what} succeeded, but the contract says it rejects with ${code}`);
  if (isAssertionError(outcome.error)) throw outcome.error;
  if (!isBentoportError(outcome.error, code)) assert.fail(`${what} rejected with ${describeError(outcome.error)}, but the contract says ${code}`);
  return outcome.error;
}

/** Await `operation`, failing the check when it takes longer than `milliseconds`. */
export async function within<T>(operation: Promise<T>, what: string, milliseconds = OPERATION_MILLISECONDS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      try {
        assert.fail(`${what} did not finish within ${milliseconds / 1000} s`);
      } catch (error) {
        reject(error);
      }
    }, milliseconds);
  });
  try {
    return await Promise.race([operation, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
