import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { checkReadRange, fileRangeStream, pluginFailure, throwIfAborted, toBentoportError } from '@bentoport/plugin-kit';
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
  return fileRangeStream(handle, { start, end, highWaterMark, signal, component: COMPONENT, target: location.display });
}
