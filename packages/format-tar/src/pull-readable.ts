import { Readable } from 'node:stream';
import { BentoportError } from '@bentoport/core';

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

/**
 * The output stream of an encoder: pulls `bytes` on demand; when `signal` fires (or already has),
 * the stream is destroyed with ERR_ABORTED naming `what` (`[format-xz] write bento`), and
 * `controller` is aborted so the encoder stops reading entries. Every tar-based codec returns this.
 */
export function abortableEncoderOutput(
  bytes: AsyncIterable<Buffer>,
  controller: AbortController,
  signal: AbortSignal | undefined,
  what: string,
): Readable {
  const onAbort = (): void => {
    output.destroy(new BentoportError('ERR_ABORTED', `${what}: aborted`, { cause: signal?.reason }));
  };
  const output = pullReadable(bytes, () => {
    signal?.removeEventListener('abort', onAbort);
    controller.abort();
  });
  output.once('end', () => signal?.removeEventListener('abort', onAbort));
  if (signal?.aborted === true) process.nextTick(onAbort);
  else signal?.addEventListener('abort', onAbort, { once: true });
  return output;
}
