import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { abortedFailure, checkReadRange, pluginFailure, throwIfAborted, toBentoportError } from '@bentoport/plugin-kit';
import type { Location, TransportReadOptions } from '@bentoport/spec';
import { COMPONENT, localPath } from './local-path.js';

/**
 * Open the file first, so that a missing file rejects here with ERR_NOT_FOUND instead of failing
 * the stream later, then stream `[start, end)` from the handle.
 */
export async function openFileReader(location: Location, options: TransportReadOptions, highWaterMark: number): Promise<Readable> {
  const { signal } = options;
  const { start, end } = checkReadRange(COMPONENT, 'READ', location.display, options);
  throwIfAborted(signal, COMPONENT, 'READ', location.display);
  const filePath = localPath(location, 'READ');
  let handle: FileHandle;
  try {
    handle = await open(filePath, 'r');
  } catch (error) {
    throw toBentoportError(error, COMPONENT, 'READ', location.display);
  }
  try {
    // On Linux a directory opens fine and only fails at the first read: refuse it now.
    if ((await handle.stat()).isDirectory()) throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'READ', location.display, 'a directory is at this location');
    throwIfAborted(signal, COMPONENT, 'READ', location.display);
  } catch (error) {
    await handle.close().catch(() => {});
    throw toBentoportError(error, COMPONENT, 'READ', location.display);
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
        (error: unknown) => this.destroy(toBentoportError(error, COMPONENT, 'READ', location.display)),
      );
    },
    destroy(error, callback) {
      signal?.removeEventListener('abort', onAbort);
      // close() waits for a read still in flight.
      handle.close().then(
        () => callback(error),
        (closeError: unknown) => callback(error ?? toBentoportError(closeError, COMPONENT, 'READ', location.display)),
      );
    },
  });
  function onAbort(): void {
    stream.destroy(abortedFailure(COMPONENT, 'READ', location.display, signal));
  }
  signal?.addEventListener('abort', onAbort, { once: true });
  return stream;
}
