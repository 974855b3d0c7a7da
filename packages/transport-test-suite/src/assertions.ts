import { isBentoportError, type ErrorCode } from '@bentoport/spec';
import { assert } from 'vitest';

/** Fail with vitest's AssertionError, rendered like any failed expectation. */
export function fail(message: string): never {
  assert.fail(message);
}

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) fail(message);
}

function describeError(error: unknown): string {
  if (isBentoportError(error)) return `BentoportError ${error.code}: ${error.message}`;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${error.name}${code === undefined ? '' : ` (code ${String(code)})`}: ${error.message}`;
  }
  return String(error);
}

/** Await an operation and require it to reject with a BentoportError of the given code. */
export async function expectCode(operation: () => Promise<unknown>, code: ErrorCode, what: string): Promise<unknown> {
  let outcome: { error: unknown } | undefined;
  try {
    await operation();
  } catch (error) {
    outcome = { error };
  }
  if (outcome === undefined) fail(`${what} resolved, but the contract says it rejects with ${code}`);
  if (!isBentoportError(outcome.error, code)) {
    fail(`${what} rejected with ${describeError(outcome.error)}, but the contract says ${code}`);
  }
  return outcome.error;
}

/** Require an error to be a BentoportError of the given code. */
export function expectErrorCode(error: unknown, code: ErrorCode, what: string): void {
  if (!isBentoportError(error, code)) fail(`${what}: got ${describeError(error)}, but the contract says ${code}`);
}

/** Compare bytes without printing megabytes of diff: report lengths and the first differing offset. */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (actual.length !== expected.length) {
    fail(`${what}: got ${actual.length} bytes, expected ${expected.length}`);
  }
  if (Buffer.compare(actual, expected) === 0) return;
  let offset = 0;
  while (actual[offset] === expected[offset]) offset++;
  fail(`${what}: bytes differ from offset ${offset} (got 0x${actual[offset]?.toString(16)}, expected 0x${expected[offset]?.toString(16)})`);
}
