import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { checkReadRange, fileRangeStream, pluginFailure, throwIfAborted, toBentoportError } from '@bentoport/plugin-kit';
import type { Location, TransportReadOptions } from '@bentoport/spec';
import { COMPONENT, localPath } from './local-path.js';

/**
 * Bytes per read (and the stream's buffer) of a ranged read, one given `start` or `end`, when the
 * transport's `highWaterMark` is larger. Why: ranged reads feed a random-access decoder, which
 * keeps several going at once: a zip import inflates two large bodies, each from a ranged read of
 * its own, beside its shared cursor and the whole archive streaming to its hash. With 1 MiB
 * chunks more of them were dead at once, waiting for V8 to collect them (array buffers peaked at
 * 83 MiB against 45), in glibc's heap, which returns only its top and had grown to 90 MiB.
 * 1 GiB zip import, 41 files, interleaved, 5 rounds: peak
 * RSS 162–166 MiB with 1 MiB reads, 122–126 MiB with these, in 4.46 s against 4.24 s (more
 * thread-pool round trips on 2 busy cores). 512 KiB reads kept 134–138 MiB; 128 KiB gained
 * nothing more. The sequential stream keeps its 1 MiB: all reads at 256 KiB cost 10%.
 */
export const RANGED_READ_BYTES = 256 * 1024;

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
  const ranged = options.start !== undefined || options.end !== undefined;
  const readBytes = ranged ? Math.min(highWaterMark, RANGED_READ_BYTES) : highWaterMark;
  return fileRangeStream(handle, { start, end, highWaterMark: readBytes, signal, component: COMPONENT, target: location.display });
}
