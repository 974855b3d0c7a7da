import type { FileHandle } from 'node:fs/promises';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import {
  abortedFailure,
  pluginFailure,
  reportRemovedLeftover,
  staleTemporarySiblings,
  temporarySiblingName,
  throwIfAborted,
  toBentoportError,
  twoPhaseWriter,
} from '@bentoport/plugin-kit';
import type { Location, ProgressListener, TransportWriteOptions, TransportWriter } from '@bentoport/spec';
import { COMPONENT, localPath } from './local-path.js';

/** The temporary name beside the target: same directory, so the commit's rename is atomic. */
export function temporaryPathFor(target: string): string {
  return path.join(path.dirname(target), temporarySiblingName(path.basename(target)));
}

export interface FileWriterSettings {
  highWaterMark: number;
  fsync: boolean;
}

/**
 * Check the target and its parent, then open the temporary file, so that every refusal (missing
 * parent, directory in the way, no permission) rejects here rather than midway through a stream.
 */
export async function openFileWriter(location: Location, options: TransportWriteOptions, settings: FileWriterSettings): Promise<TransportWriter> {
  const { signal } = options;
  throwIfAborted(signal, COMPONENT, 'WRITE', location.display);
  const target = localPath(location, 'WRITE');
  await checkTarget(target, location);
  await removeStaleTemporaries(target, options.onProgress);
  const temporary = temporaryPathFor(target);
  let handle: FileHandle;
  try {
    // `wx`: never reuse a stray file; 0o666 so the umask decides the mode, as for any new file.
    handle = await open(temporary, 'wx', 0o666);
  } catch (error) {
    throw toBentoportError(error, COMPONENT, 'WRITE', location.display);
  }
  if (signal?.aborted) {
    await discard(handle, temporary);
    throw abortedFailure(COMPONENT, 'WRITE', location.display, signal);
  }
  return fileWriter({ location, target, temporary, handle, signal, settings });
}

async function checkTarget(target: string, location: Location): Promise<void> {
  const parent = path.dirname(target);
  // BentoML does not create parents for a local export: a missing one is an error naming it.
  const parentStat = await stat(parent).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw pluginFailure(COMPONENT, 'ERR_NOT_FOUND', 'WRITE', location.display, `parent directory ${parent} does not exist`, { cause: error });
    }
    throw toBentoportError(error, COMPONENT, 'WRITE', location.display);
  });
  if (!parentStat.isDirectory()) throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'WRITE', location.display, `${parent} is not a directory`);
  const targetStat = await stat(target).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw toBentoportError(error, COMPONENT, 'WRITE', location.display);
  });
  if (targetStat?.isDirectory()) throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'WRITE', location.display, 'a directory is at this location');
}

/**
 * Remove the temporary files that killed earlier writes to `target` left beside it (a SIGKILL
 * leaves no chance to `abort`), and say so. Only this target's, and only those whose writer is
 * gone. Best effort: a failure here never fails the write.
 */
async function removeStaleTemporaries(target: string, onProgress: ProgressListener | undefined): Promise<void> {
  const directory = path.dirname(target);
  try {
    const names = await readdir(directory);
    const modifiedOf = async (name: string) => (await stat(path.join(directory, name))).mtimeMs;
    for (const name of await staleTemporarySiblings(names.map((entry) => ({ name: entry })), path.basename(target), modifiedOf)) {
      const leftover = path.join(directory, name);
      // Another run may have removed it first: only a removal we made is reported.
      if (await unlink(leftover).then(() => true, () => false)) reportRemovedLeftover(onProgress, 'export', COMPONENT, leftover);
    }
  } catch {
    // An unreadable directory: the write itself reports what matters.
  }
}

/** Close and remove the temporary file, ignoring failures: abort never throws. */
async function discard(handle: FileHandle, temporary: string): Promise<void> {
  await handle.close().catch(() => {});
  await unlink(temporary).catch(() => {});
}

/** Write all of `buffer` at `position`: a regular file may still take fewer bytes per call. */
async function writeFully(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset, position + offset);
    offset += bytesWritten;
  }
}

/** fsync the directory so the rename itself survives a crash. Best effort: not every platform allows it. */
async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch {
    // Windows cannot open directories; some file systems refuse fsync on them.
  } finally {
    await handle?.close().catch(() => {});
  }
}

interface FileWriterParts {
  location: Location;
  target: string;
  temporary: string;
  handle: FileHandle;
  signal: AbortSignal | undefined;
  settings: FileWriterSettings;
}

function fileWriter(parts: FileWriterParts): TransportWriter {
  const { location, target, temporary, handle, signal, settings } = parts;
  let position = 0;
  /**
   * The fsync, started as soon as the last byte is written rather than at `commit`: what the
   * caller does in between (signing an export: its manifest and signature, ~0.1 s for 10,000
   * files) then overlaps the flush of the data (~0.8 s for 1 GiB here) instead of adding to it.
   * Holds the failure, if any, for `commit` to throw.
   */
  let flushing: Promise<unknown> | undefined;

  const stream = new Writable({
    highWaterMark: settings.highWaterMark,
    final(callback) {
      if (settings.fsync) flushing = handle.sync().then(() => undefined, (error: unknown) => error ?? new Error('fsync failed'));
      callback();
    },
    write(chunk: Buffer, _encoding, callback) {
      const at = position;
      position += chunk.length;
      writeFully(handle, chunk, at).then(
        () => callback(),
        (error: unknown) => callback(toBentoportError(error, COMPONENT, 'WRITE', location.display)),
      );
    },
    writev(chunks, callback) {
      // One system call for what piled up while the previous write was in flight.
      const buffer = Buffer.concat(chunks.map(({ chunk }) => chunk as Buffer));
      const at = position;
      position += buffer.length;
      writeFully(handle, buffer, at).then(
        () => callback(),
        (error: unknown) => callback(toBentoportError(error, COMPONENT, 'WRITE', location.display)),
      );
    },
  });

  return twoPhaseWriter({
    stream,
    component: COMPONENT,
    operation: 'WRITE',
    display: location.display,
    signal,
    async finish() {
      // `final` ran: commit needs the stream finished.
      const failure = await flushing;
      if (failure !== undefined) throw failure;
      await handle.close();
      // The last moment to honour the signal: after the rename the write is visible.
      throwIfAborted(signal, COMPONENT, 'COMMIT', location.display);
      await rename(temporary, target);
    },
    // An fsync in flight ends before its file is closed.
    discard: async () => {
      await flushing;
      await discard(handle, temporary);
    },
    commitFailure: (error) => toBentoportError(error, COMPONENT, 'COMMIT', location.display),
    committed: () => (settings.fsync ? syncDirectory(path.dirname(target)) : undefined),
  });
}
