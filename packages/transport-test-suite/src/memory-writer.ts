import { Writable } from 'node:stream';
import { BentoportError, type TransportWriter } from '@bentoport/spec';

/** What {@link memoryWriter} needs from the memory transport. */
export interface MemoryWriterOptions {
  /** The transport's name and the location, for messages: `[transport-memory] COMMIT memory:///a.bin`. */
  component: string;
  display: string;
  /** Bytes the stream buffers before `write()` returns false. */
  highWaterMark: number;
  signal: AbortSignal | undefined;
  /** Makes the written bytes visible; may throw a coded error (the write is then discarded). */
  publish(data: Buffer): void;
}

type WriterState = 'open' | 'committing' | 'committed' | 'aborted';

/**
 * The memory transport's two-phase writer. The suite judges third-party transports, so its
 * reference implements the contract itself, on `@bentoport/spec` alone, instead of borrowing a
 * shared helper whose bugs the suite would then share:
 *
 * - bytes are kept aside until `commit`, which needs the stream to have finished (else TypeError);
 * - `abort` discards them, never throws, and turns a later `commit` into ERR_ABORTED;
 * - the signal firing while the write is open destroys the stream with ERR_ABORTED.
 */
export function memoryWriter(options: MemoryWriterOptions): TransportWriter {
  const { component, display, signal } = options;
  const failure = (operation: string, reason: string, cause?: unknown): BentoportError =>
    new BentoportError('ERR_ABORTED', `[${component}] ${operation} ${display}: ${reason}`, cause === undefined ? {} : { cause });
  let chunks: Buffer[] = [];
  let state: WriterState = 'open';
  let committing: Promise<void> | undefined;

  const stream = new Writable({
    highWaterMark: options.highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      // Complete later, as real I/O does, so that buffering (and backpressure) is observable.
      setImmediate(callback);
    },
  });

  const discard = (error?: Error): void => {
    state = 'aborted';
    chunks = [];
    signal?.removeEventListener('abort', onAbort);
    stream.destroy(error);
  };
  function onAbort(): void {
    if (state === 'open') discard(failure('WRITE', 'aborted', signal?.reason));
  }
  signal?.addEventListener('abort', onAbort, { once: true });

  async function finishCommit(): Promise<void> {
    await finishedWriting(stream, () => failure('COMMIT', 'the stream was destroyed before it finished'));
    if (signal?.aborted) throw failure('COMMIT', 'aborted', signal.reason);
    options.publish(Buffer.concat(chunks));
    state = 'committed';
    chunks = [];
    signal?.removeEventListener('abort', onAbort);
  }

  return {
    stream,
    commit() {
      if (committing !== undefined) return committing;
      if (state === 'aborted') return Promise.reject(failure('COMMIT', 'the write was aborted'));
      if (!stream.writableEnded) return Promise.reject(new TypeError(`[${component}] COMMIT ${display}: call stream.end() before commit()`));
      state = 'committing';
      committing = finishCommit().catch((error: unknown) => {
        discard();
        throw error;
      });
      return committing;
    },
    async abort() {
      if (state === 'open') discard();
      // Aborting during or after a commit changes nothing, and still never throws.
      await committing?.catch(() => {});
    },
  };
}

/** Resolve once the stream has finished; reject with `failure()` when it was destroyed first. */
function finishedWriting(stream: Writable, failure: () => Error): Promise<void> {
  if (stream.writableFinished) return Promise.resolve();
  if (stream.destroyed) return Promise.reject(failure());
  return new Promise((resolve, reject) => {
    stream.once('finish', () => resolve());
    stream.once('close', () => (stream.writableFinished ? resolve() : reject(failure())));
  });
}
