import type { Writable } from 'node:stream';
import { BentoportError, type TransportWriter } from '@bentoport/spec';
import { toBentoportError } from './coded-errors.js';
import { writableFinished } from './stream-helpers.js';

/** Where a {@link twoPhaseWriter} is: `open` until `commit` or `abort` is called, then one of the other three. */
export type TwoPhaseWriterState = 'open' | 'committing' | 'committed' | 'aborted';

/** A {@link TransportWriter} that also tells its state, for the protocol code feeding its stream. */
export interface TwoPhaseWriter extends TransportWriter {
  readonly state: TwoPhaseWriterState;
}

/** What {@link twoPhaseWriter} needs from a transport: its stream and its protocol's two last steps. */
export interface TwoPhaseWriterOptions {
  /** The stream the caller writes to; its `final` should flush everything to the server. */
  stream: Writable;
  /** The plugin's name, for messages: `transport-fs`. */
  component: string;
  /** The write's operation name in messages (`WRITE`, `STOR`, `PUT`): names the ERR_ABORTED a fired signal destroys the stream with. */
  operation: string;
  /** The location with credentials redacted (`Location.display`), for messages. */
  display: string;
  /** Aborts the write while it is open; ignored once `commit` was called. @default undefined (only `abort` or a stream error discards) */
  signal?: AbortSignal | undefined;
  /**
   * The protocol's commit step (rename, MOVE, CompleteMultipartUpload), called once the stream has
   * finished and the signal was found not aborted. After it resolves the bytes are visible.
   * If it rejects, `discard` runs and `commit` rejects with `commitFailure(error)`.
   */
  finish(): Promise<void>;
  /**
   * The protocol's discard step: remove the temporary file, cancel or abort the upload. Called at
   * most once, after the stream was destroyed, with the error that ended the write (a fired
   * signal's ERR_ABORTED, a failed commit's error) or `abort`'s reason. Must not throw.
   */
  discard(reason?: unknown): Promise<void>;
  /**
   * Map an error of the commit (stream failure, `finish`) to the error `commit` rejects with.
   * @default toBentoportError(error, component, 'COMMIT', display)
   */
  commitFailure?(error: unknown): Error;
  /**
   * Runs after a successful `finish`, once the state is `committed` (release a connection, fsync
   * a directory). Should not throw: the bytes are already visible.
   * @default nothing
   */
  committed?(): void | Promise<void>;
}

/**
 * The two-phase write state machine every transport shares, around a transport's own stream and
 * protocol steps. It implements the {@link TransportWriter} contract:
 *
 * - Bytes written to `stream` stay invisible at the location until `commit` resolves; `abort`
 *   removes every trace (by calling `discard`). Exactly one of the two must be called, after
 *   `stream` has finished (commit) or at any time (abort).
 * - `commit` before the stream has finished (`stream.end()` not called) is a TypeError.
 * - `commit` after `abort` rejects with ERR_ABORTED.
 * - A stream whose signal fires errors with ERR_ABORTED (and the write is aborted).
 * - `abort` never throws; aborting during or after a commit changes nothing. A second `commit`
 *   returns the first one's promise.
 * - A failed commit leaves no trace either: the stream is destroyed and `discard` runs before
 *   `commit` rejects.
 *
 * @example
 * ```ts
 * return twoPhaseWriter({
 *   stream, component: 'transport-fs', operation: 'WRITE', display: location.display, signal,
 *   finish: () => rename(temporary, target),
 *   discard: () => unlink(temporary).catch(() => {}),
 * });
 * ```
 */
export function twoPhaseWriter(options: TwoPhaseWriterOptions): TwoPhaseWriter {
  const { stream, component, operation, display, signal, finish, discard } = options;
  const commitFailure = options.commitFailure ?? ((error: unknown) => toBentoportError(error, component, 'COMMIT', display));
  const failure = (code: 'ERR_ABORTED' | 'ERR_IO', op: string, reason: string, cause?: unknown): BentoportError =>
    new BentoportError(code, `[${component}] ${op} ${display}: ${reason}`, cause === undefined ? {} : { cause });
  let state: TwoPhaseWriterState = 'open';
  let settled: Promise<void> | undefined;

  function onAbort(): void {
    if (state !== 'open') return;
    // Destroy with the coded error so a pipeline into this stream rejects with ERR_ABORTED.
    void abortWith(failure('ERR_ABORTED', operation, 'aborted', signal?.reason), signal?.reason);
  }
  signal?.addEventListener('abort', onAbort, { once: true });

  function abortWith(error: Error | undefined, reason: unknown): Promise<void> {
    state = 'aborted';
    signal?.removeEventListener('abort', onAbort);
    stream.destroy(error);
    settled = discard(error ?? reason).catch(() => {});
    return settled;
  }

  async function finishCommit(): Promise<void> {
    try {
      await writableFinished(stream, (errored) => errored ?? failure('ERR_IO', 'COMMIT', 'the stream was destroyed before it finished'));
      // The last moment to honour the signal: `finish` makes the bytes visible.
      if (signal?.aborted) throw failure('ERR_ABORTED', 'COMMIT', 'aborted', signal.reason);
      await finish();
    } catch (error) {
      signal?.removeEventListener('abort', onAbort);
      state = 'aborted';
      stream.destroy();
      await discard(error).catch(() => {});
      throw commitFailure(error);
    }
    state = 'committed';
    signal?.removeEventListener('abort', onAbort);
    await options.committed?.();
  }

  async function commit(): Promise<void> {
    if (state === 'committed' || state === 'committing') return settled;
    if (state === 'aborted') {
      await settled?.catch(() => {});
      throw failure('ERR_ABORTED', 'COMMIT', 'the write was aborted');
    }
    if (!stream.writableEnded) throw new TypeError(`[${component}] COMMIT ${display}: call stream.end() before commit()`);
    state = 'committing';
    settled = finishCommit();
    return settled;
  }

  async function abort(reason?: unknown): Promise<void> {
    if (state === 'open') return abortWith(undefined, reason);
    // Aborting during or after a commit changes nothing, and still never throws.
    await settled?.catch(() => {});
  }

  return {
    stream,
    commit,
    abort,
    get state() {
      return state;
    },
  };
}
