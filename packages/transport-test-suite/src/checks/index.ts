import type { TransportCapabilities } from '@bentoport/spec';
import type { CheckContext } from '../check-context.js';
import { checkReadAbortedSignal, checkReadSignalMidStream, checkWriteAbortedSignal, checkWriteSignalMidStream } from './abort-signal.js';
import { checkReadBackpressure, checkWriteBackpressure } from './backpressure.js';
import { checkListCommitted, checkListMissing } from './list.js';
import { checkDeleteMissing, checkDeleteRemoves, checkReadMissing, checkStatMissing } from './not-found.js';
import { checkRangedReads } from './ranged-reads.js';
import { checkOverwriteReplaces, checkRoundTripEmpty, checkRoundTripLarge, checkRoundTripSmall } from './round-trip.js';
import { checkShape } from './shape.js';
import { checkAbortKeepsOldContent, checkAbortLeavesNothing, checkCommitAtomicNew, checkCommitAtomicOverwrite } from './two-phase.js';

export * from './abort-signal.js';
export * from './backpressure.js';
export * from './list.js';
export * from './not-found.js';
export * from './ranged-reads.js';
export * from './round-trip.js';
export * from './shape.js';
export * from './two-phase.js';

/** One conformance check: a plain async function that throws when the transport breaks the contract. */
export interface TransportCheck {
  readonly group: string;
  readonly title: string;
  /** Capabilities the check needs; it is reported as skipped when any is false. */
  readonly requires: readonly (keyof TransportCapabilities)[];
  readonly run: (context: CheckContext) => Promise<void>;
}

function define(group: string, title: string, run: TransportCheck['run'], requires: TransportCheck['requires'] = []): TransportCheck {
  return { group, title, requires, run };
}

/** Every check, in the order the suite registers them. */
export const TRANSPORT_CHECKS: readonly TransportCheck[] = [
  define('shape', 'declares apiVersion 1, a name, protocols and boolean capabilities; list/delete present iff declared', checkShape),

  define('round trip', 'write + commit then read gives back the same bytes (small)', checkRoundTripSmall),
  define('round trip', 'write + commit then read gives back the same bytes (empty)', checkRoundTripEmpty),
  define('round trip', 'write + commit then read gives back the same bytes (5 MiB, odd chunks)', checkRoundTripLarge),
  define('round trip', 'an existing object is replaced on commit', checkOverwriteReplaces),

  define('missing location', 'stat rejects with ERR_NOT_FOUND', checkStatMissing),
  define('missing location', 'read rejects with ERR_NOT_FOUND', checkReadMissing),
  define('missing location', 'delete rejects with ERR_NOT_FOUND', checkDeleteMissing, ['delete']),
  define('missing location', 'delete removes the object', checkDeleteRemoves, ['delete']),

  define('two-phase write', 'abort removes every trace (mid-stream and after finish)', checkAbortLeavesNothing),
  define('two-phase write', 'abort of an overwrite keeps the old content', checkAbortKeepsOldContent),
  define('two-phase write', 'a new object stays invisible until commit', checkCommitAtomicNew, ['atomicCommit']),
  define('two-phase write', 'an overwrite keeps the old content until commit', checkCommitAtomicOverwrite, ['atomicCommit']),

  define('ranged reads', 'read honours start (inclusive) and end (exclusive)', checkRangedReads, ['rangedReads']),

  define('abort signal', 'read with an aborted signal rejects with ERR_ABORTED', checkReadAbortedSignal),
  define('abort signal', 'write with an aborted signal rejects with ERR_ABORTED and creates nothing', checkWriteAbortedSignal),
  define('abort signal', 'the signal firing mid-write aborts the write and leaves nothing', checkWriteSignalMidStream),
  define('abort signal', 'the signal firing mid-read errors the stream with ERR_ABORTED', checkReadSignalMidStream),

  define('backpressure', 'an unread 16 MiB read stream buffers no more than ~2x its high-water mark', checkReadBackpressure),
  define('backpressure', 'the writer stream says stop once its high-water mark is buffered, then drains', checkWriteBackpressure),

  define('list', 'lists committed files with name, type and size', checkListCommitted, ['list']),
  define('list', 'rejects with ERR_NOT_FOUND for a missing directory', checkListMissing, ['list']),
];
