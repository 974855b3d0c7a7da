import { isBentoportError, type ErrorCode } from '@bentoport/spec';
import { assert } from 'vitest';

/** One line saying what an error is: its code when it has one, so a wrong code is obvious. */
export function describeError(error: unknown): string {
  if (isBentoportError(error)) return `BentoportError ${error.code}: ${error.message}`;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${error.name}${code === undefined ? '' : ` (code ${String(code)})`}: ${error.message}`;
  }
  return `a non-Error value: ${String(error)}`;
}

/** Require a BentoportError with one of the codes; `what` says where it came from. */
export function expectCoded(error: unknown, codes: ErrorCode | readonly ErrorCode[], what: string): void {
  const allowed = typeof codes === 'string' ? [codes] : codes;
  if (allowed.some((code) => isBentoportError(error, code))) return;
  assert.fail(`${what}: got ${describeError(error)}, but the contract says ${allowed.join(' or ')}`);
}
