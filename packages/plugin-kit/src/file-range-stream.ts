import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { abortedFailure, toBentoportError } from './coded-errors.js';

/** Options of {@link fileRangeStream}. */
export interface FileRangeStreamOptions {
  /** First byte to read. */
  start: number;
  /** One past the last byte to read (`Infinity` reads to the end of the file). */
  end: number;
  /** Bytes per read and the stream's buffer. */
  highWaterMark: number;
  /** Destroys the stream with ERR_ABORTED when it fires. @default undefined */
  signal?: AbortSignal;
  /** The plugin's name, for messages (`transport-fs`). */
  component: string;
  /** The operation, for messages. @default 'READ' */
  operation?: string;
  /** The location as messages show it, credentials redacted. */
  target: string;
}

/**
 * A Readable over `[start, end)` of an open file, for plugins that keep bytes in local files.
 * Written out rather than `fs.createReadStream` so that its errors are coded, the end is
 * exclusive and an abort surfaces as ERR_ABORTED. It reads only when Node asks (`read()` is
 * called while the buffer is below the high-water mark), which is the backpressure. The handle
 * is closed when the stream ends or is destroyed; `close()` waits for a read still in flight.
 */
export function fileRangeStream(handle: FileHandle, options: FileRangeStreamOptions): Readable {
  const { end, highWaterMark, signal, component, target } = options;
  const operation = options.operation ?? 'READ';
  const failure = (error: unknown) => toBentoportError(error, component, operation, target);
  let position = options.start;
  const stream = new Readable({
    highWaterMark,
    read(size) {
      const length = Math.min(size, highWaterMark, end - position);
      if (length <= 0) {
        this.push(null);
        return;
      }
      const buffer = Buffer.allocUnsafe(length);
      handle.read(buffer, 0, length, position).then(
        ({ bytesRead }) => {
          if (bytesRead === 0) {
            this.push(null);
            return;
          }
          position += bytesRead;
          this.push(bytesRead < length ? buffer.subarray(0, bytesRead) : buffer);
        },
        (error: unknown) => this.destroy(failure(error)),
      );
    },
    destroy(error, callback) {
      signal?.removeEventListener('abort', onAbort);
      handle.close().then(
        () => callback(error),
        (closeError: unknown) => callback(error ?? failure(closeError)),
      );
    },
  });
  function onAbort(): void {
    stream.destroy(abortedFailure(component, operation, target, signal));
  }
  signal?.addEventListener('abort', onAbort, { once: true });
  return stream;
}
