import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Location, TransportReadOptions } from '@bentoport/spec';
import { abortedFailure, checkReadRange, throwIfAborted } from '@bentoport/plugin-kit';
import { COMPONENT, fromSystemError } from './kv-errors.js';

/**
 * Open the object's file first, so a missing object rejects here with ERR_NOT_FOUND rather than
 * failing the stream later, then stream `[start, end)` of it.
 */
export async function openObjectReader(file: string, location: Location, options: TransportReadOptions, highWaterMark: number): Promise<Readable> {
  // `[start, end)` as the contract defines it; a negative or reversed range is a RangeError.
  const { start, end } = checkReadRange(COMPONENT, 'READ', location.display, options);
  throwIfAborted(options.signal, COMPONENT, 'READ', location.display);
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw fromSystemError(error, 'READ', location);
  }
  return rangeStream(handle, { start, end, location, highWaterMark, signal: options.signal });
}

interface RangeStreamOptions {
  start: number;
  end: number;
  location: Location;
  highWaterMark: number;
  signal: AbortSignal | undefined;
}

/**
 * A Readable over `[start, end)` of a file. It reads only when the consumer asks (Node calls
 * `read()` while its buffer is below the high-water mark): that is the backpressure. A fired
 * signal destroys it with ERR_ABORTED.
 */
function rangeStream(handle: FileHandle, options: RangeStreamOptions): Readable {
  const { end, location, highWaterMark, signal } = options;
  let position = options.start;
  const stream = new Readable({
    highWaterMark,
    read() {
      const length = Math.min(highWaterMark, end - position);
      if (length <= 0) {
        this.push(null);
        return;
      }
      const buffer = Buffer.allocUnsafe(length);
      handle.read(buffer, 0, length, position).then(
        ({ bytesRead }) => {
          position += bytesRead;
          this.push(bytesRead === 0 ? null : buffer.subarray(0, bytesRead));
        },
        (error: unknown) => this.destroy(fromSystemError(error, 'READ', location)),
      );
    },
    destroy(error, callback) {
      signal?.removeEventListener('abort', onAbort);
      handle.close().then(
        () => callback(error),
        (closeError: unknown) => callback(error ?? fromSystemError(closeError, 'READ', location)),
      );
    },
  });
  function onAbort(): void {
    stream.destroy(abortedFailure(COMPONENT, 'READ', location.display, signal));
  }
  signal?.addEventListener('abort', onAbort, { once: true });
  return stream;
}
