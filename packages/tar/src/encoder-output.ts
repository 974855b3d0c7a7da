import { Readable } from 'node:stream';
import { abortedFailure } from '@bentoport/plugin-kit';

/**
 * A byte Readable that pulls from an async iterator only while its consumer wants more.
 *
 * Not `Readable.from`: its destroy waits for the iterator to settle, so a body read that never
 * completes would also keep the abort from ever surfacing. Here destroy is immediate; it fires
 * `onDestroy` (which aborts the pending reads) and lets the iterator unwind in the background.
 */
export function pullReadable(source: AsyncIterable<Buffer>, onDestroy: (error: Error | null) => void): Readable {
  const iterator = source[Symbol.asyncIterator]();
  let pulling = false;

  const readable = new Readable({
    // One chunk buffered at a time. Compressed pieces can be tiny (a MiB of zeros deflates to
    // a KiB), so a mark in bytes would let the input run far ahead of a slow consumer.
    highWaterMark: 1,
    read() {
      if (!pulling) void pump();
    },
    destroy(error, callback) {
      onDestroy(error);
      iterator.return?.().catch(() => undefined);
      callback(error);
    },
  });

  async function pump(): Promise<void> {
    pulling = true;
    try {
      while (!readable.destroyed) {
        const step = await iterator.next();
        if (readable.destroyed) return;
        if (step.done === true) {
          readable.push(null);
          return;
        }
        if (!readable.push(step.value)) return;
      }
    } catch (error) {
      readable.destroy(error as Error);
    } finally {
      pulling = false;
    }
  }

  return readable;
}

/** What {@link abortableEncoderOutput} needs besides the bytes. */
export interface EncoderOutputOptions {
  /** The plugin named in the abort error: `format-xz`. */
  component: string;
  /** The format token being written, named in the abort error: `bento`. */
  format: string;
  /** The caller's signal (`EncodeOptions.signal`). */
  signal?: AbortSignal;
}

/**
 * The output stream of a tar-based encoder: pulls the bytes of `produce(stop)` on demand. When
 * `signal` fires (or already has), the stream is destroyed with ERR_ABORTED
 * (`[format-xz] write bento: aborted`); when the stream is destroyed for any reason, `stop` fires
 * so the encoder stops reading entries and bodies. Every tar-based codec returns this.
 * @example
 * ```ts
 * return abortableEncoderOutput((stop) => encodeTar(entries, { component: 'format-tar', format: 'tar', signal: stop }), {
 *   component: 'format-tar',
 *   format: 'tar',
 *   signal: encodeOptions.signal,
 * });
 * ```
 */
export function abortableEncoderOutput(produce: (stop: AbortSignal) => AsyncIterable<Buffer>, options: EncoderOutputOptions): Readable {
  const { component, format, signal } = options;
  const controller = new AbortController();
  const onAbort = (): void => {
    output.destroy(abortedFailure(component, 'write', format, signal));
  };
  const output = pullReadable(produce(controller.signal), () => {
    signal?.removeEventListener('abort', onAbort);
    controller.abort();
  });
  output.once('end', () => signal?.removeEventListener('abort', onAbort));
  if (signal?.aborted === true) process.nextTick(onAbort);
  else signal?.addEventListener('abort', onAbort, { once: true });
  return output;
}
