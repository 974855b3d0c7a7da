import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Location, TransportReadOptions } from '@bentoport/core';
import { abortedFailure, fromSystemError, fsFailure, localPath, throwIfSignalAborted } from './fs-errors.js';

function checkRange(start: number, end: number, location: Location): void {
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new RangeError(`[transport-fs] READ ${location.display}: start must be a non-negative integer, got ${start}`);
  }
  if (end !== Infinity && (!Number.isSafeInteger(end) || end < start)) {
    throw new RangeError(`[transport-fs] READ ${location.display}: end must be an integer >= start, got ${end}`);
  }
}

/**
 * Open the file first, so that a missing file rejects here with ERR_NOT_FOUND instead of failing
 * the stream later, then stream `[start, end)` from the handle.
 */
export async function openFileReader(location: Location, options: TransportReadOptions, highWaterMark: number): Promise<Readable> {
  const { signal } = options;
  const start = options.start ?? 0;
  const end = options.end ?? Infinity;
  checkRange(start, end, location);
  throwIfSignalAborted(signal, 'READ', location);
  const filePath = localPath(location, 'READ');
  let handle: FileHandle;
  try {
    handle = await open(filePath, 'r');
  } catch (error) {
    throw fromSystemError(error, 'READ', location);
  }
  try {
    // On Linux a directory opens fine and only fails at the first read: refuse it now.
    if ((await handle.stat()).isDirectory()) throw fsFailure('ERR_INVALID_TARGET', 'READ', location, 'a directory is at this location');
    throwIfSignalAborted(signal, 'READ', location);
  } catch (error) {
    await handle.close().catch(() => {});
    throw fromSystemError(error, 'READ', location);
  }
  return handleStream(handle, { start, end, signal, location, highWaterMark });
}

interface HandleStreamOptions {
  start: number;
  end: number;
  signal: AbortSignal | undefined;
  location: Location;
  highWaterMark: number;
}

/**
 * A Readable over a FileHandle. Written out rather than `fs.createReadStream` so that its errors
 * are coded, the end is exclusive and an abort surfaces as ERR_ABORTED. It reads only when Node
 * asks (`read()` is called while the buffer is below the high-water mark), which is the backpressure.
 */
function handleStream(handle: FileHandle, options: HandleStreamOptions): Readable {
  const { end, signal, location, highWaterMark } = options;
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
        (error: unknown) => this.destroy(fromSystemError(error, 'READ', location)),
      );
    },
    destroy(error, callback) {
      signal?.removeEventListener('abort', onAbort);
      // close() waits for a read still in flight.
      handle.close().then(
        () => callback(error),
        (closeError: unknown) => callback(error ?? fromSystemError(closeError, 'READ', location)),
      );
    },
  });
  function onAbort(): void {
    stream.destroy(abortedFailure('READ', location, signal!));
  }
  signal?.addEventListener('abort', onAbort, { once: true });
  return stream;
}
