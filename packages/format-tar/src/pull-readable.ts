import { Readable } from 'node:stream';

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
