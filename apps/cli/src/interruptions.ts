import { BentoportError, isBentoportError } from '@bentoport/core';
import { STOPPING_SIGNALS, type StoppingSignal } from './exit-codes.js';


/**
 * What stops the running operation before it ends: a signal (Ctrl-C, `timeout`, systemd,
 * Kubernetes, a closed terminal), or the reader of stdout or stderr going away (EPIPE).
 */
export type Interruption = StoppingSignal | 'stdout' | 'stderr';

/** Where an interruption is kept on the abort reason, so the exit code can be told from it. */
const DETAIL = 'interruption';

function describe(interruption: Interruption): string {
  return interruption === 'stdout' || interruption === 'stderr' ? `${interruption} was closed` : `interrupted by ${interruption}`;
}

/**
 * The reason the CLI aborts the operation's signal with. Core ends an aborted operation with its
 * signal's reason, so the user reads `interrupted by SIGTERM` rather than whatever the abort broke.
 */
export function interruptionReason(interruption: Interruption): BentoportError {
  return new BentoportError('ERR_ABORTED', describe(interruption), { details: { [DETAIL]: interruption } });
}

/** The interruption an abort reason was made for, or undefined for any other reason. */
export function interruptionOf(reason: unknown): Interruption | undefined {
  if (!isBentoportError(reason)) return undefined;
  const value = reason.details[DETAIL];
  return value === 'stdout' || value === 'stderr' || STOPPING_SIGNALS.includes(value as StoppingSignal) ? (value as Interruption) : undefined;
}
