/**
 * The CLI's exit codes and the signals it handles, in a module that imports nothing, so that the
 * entry can install its first signal handlers before the engine and the plugins have loaded.
 */

/** The signals that stop the running operation so it cleans up, instead of killing the process. */
export const STOPPING_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export type StoppingSignal = (typeof STOPPING_SIGNALS)[number];

/**
 * Exit codes. The interrupted ones are 128 + the signal's number, what a shell reports for a
 * process the signal killed, so scripts and supervisors read them as they would without the
 * cleanup: 129 SIGHUP, 130 SIGINT, 143 SIGTERM, and 141 (SIGPIPE) for a closed stdout or stderr.
 * 70 (sysexits' EX_SOFTWARE): an exception nothing caught, a bug, after the operation cleaned up.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, hangup: 129, interrupted: 130, closedPipe: 141, terminated: 143, internal: 70 } as const;

/** The exit code of each signal that stops the running operation. */
export const SIGNAL_EXIT: Record<StoppingSignal, number> = { SIGHUP: EXIT.hangup, SIGINT: EXIT.interrupted, SIGTERM: EXIT.terminated };
