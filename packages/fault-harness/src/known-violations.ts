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
  /** Only violations whose detail matches (default: any detail of this invariant). */
  detail?: RegExp;
  /** What goes wrong, where we suspect it, and which branch is fixing it. */
  reason: string;
}

export const KNOWN_VIOLATIONS: readonly KnownViolation[] = [
  {
    case: 'push/oci/close-*',
    invariant: 'b-leftovers',
    detail: /oci upload session /,
    reason:
      "intermittent, seen once under load 10+ (a full pnpm test beside other jobs), never on a quiet machine: stdout or stderr closed mid-push ended the process (exit 141) 85 ms after the fault with an upload session that neither the run nor the next push could cancel, so a PATCH was cut mid-body (the registry limitation of push/oci/sigkill). PATCH bodies are whole buffers under a 10 s stopping grace, so the suspect is the closed-pipe exit path not waiting for the graced request; not fixed yet. Seen: FAULT_SEED=16 quick profile, case seed 1178815189, push/oci/close-stderr",
  },
  {
    case: 'push/oci/net-*',
    invariant: 'b-leftovers',
    detail: /oci upload session /,
    reason:
      "the same registry limitation as push/oci/sigkill, reached by a network cut instead of a kill: a PATCH cut mid-body leaves a session CNCF distribution refuses every request on, DELETE included (404 BLOB_UPLOAD_INVALID), so the push sends the blob again in a new session and completes (exit 0), and neither it nor the next push can cancel the old one; distribution's upload purging removes it (168 h by default). Seen: FAULT_PROFILE=soak FAULT_SEED=393431 push/oci/net-restart",
  },
  {
    case: 'push/oci/sigkill',
    invariant: 'b-leftovers',
    detail: /^after SIGKILL, the next run did not remove: oci upload session /,
    reason:
      "SIGKILL while a PATCH body is on the wire: CNCF distribution keeps the bytes it got, and from then on refuses every request on that session, DELETE included (404 BLOB_UPLOAD_INVALID: the `_state` token no longer matches its offset; without the token it refuses too), so no client can cancel it; distribution's upload purging removes it (168 h by default). The next push's sweep does try (every repository it writes to, models' too). Seen: FAULT_SEED=22 push/oci/sigkill",
  },
];

function matches(pattern: string, id: string): boolean {
  const wanted = pattern.split('/');
  const actual = id.split('/');
  // A part is exact, `*` (anything) or a prefix ending in `*` (`net-*`).
  return wanted.length === actual.length && wanted.every((part, index) => (part.endsWith('*') ? (actual[index] ?? '').startsWith(part.slice(0, -1)) : part === actual[index]));
}

/** The entry that covers this violation, if one does. */
export function knownViolation(id: string, invariant: Invariant, detail = ''): KnownViolation | undefined {
  return KNOWN_VIOLATIONS.find((entry) => entry.invariant === invariant && matches(entry.case, id) && (entry.detail === undefined || entry.detail.test(detail)));
}
