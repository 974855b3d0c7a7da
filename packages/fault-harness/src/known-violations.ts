import type { Invariant } from './cases.js';

/**
 * Violations the harness finds on main today, each waiting for a fix. A violation listed here is
 * reported, not failed; any other fails the run. Empty this list as fixes land: an entry whose
 * violation no longer shows is printed as "not seen" at the end of a run.
 *
 * `case` is `operation/site/fault`, where any part may be `*`.
 */
export interface KnownViolation {
  case: string;
  invariant: Invariant;
  /** What goes wrong, where we suspect it, and which branch is fixing it. */
  reason: string;
}

export const KNOWN_VIOLATIONS: readonly KnownViolation[] = [];

function matches(pattern: string, id: string): boolean {
  const wanted = pattern.split('/');
  const actual = id.split('/');
  return wanted.length === actual.length && wanted.every((part, index) => part === '*' || part === actual[index]);
}

/** The entry that covers this violation, if one does. */
export function knownViolation(id: string, invariant: Invariant): KnownViolation | undefined {
  return KNOWN_VIOLATIONS.find((entry) => entry.invariant === invariant && matches(entry.case, id));
}
