import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Location, TransportReadOptions } from '@bentoport/spec';
import { checkReadRange, fileRangeStream, throwIfAborted } from '@bentoport/plugin-kit';
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
  return fileRangeStream(handle, { start, end, highWaterMark, signal: options.signal, component: COMPONENT, target: location.display });
}
