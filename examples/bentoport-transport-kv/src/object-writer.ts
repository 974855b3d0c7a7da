import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Location, TransportWriter } from '@bentoport/spec';
import { temporarySiblingName, throwIfAborted, twoPhaseWriter } from '@bentoport/plugin-kit';
import { COMPONENT, fromSystemError } from './kv-errors.js';

/** Where and how one write goes. */
export interface ObjectWriteTarget {
  /** The object's file; the upload goes to a temporary name beside it and is renamed over it on commit. */
  file: string;
  location: Location;
  signal: AbortSignal | undefined;
  highWaterMark: number;
}

/** Write all of `buffer` at `position`: one call may take fewer bytes. */
async function writeFully(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  for (let offset = 0; offset < buffer.length; ) {
    const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset, position + offset);
    offset += bytesWritten;
  }
}

/** A Writable appending to `handle`, its failures coded. */
function fileStream(handle: FileHandle, location: Location, highWaterMark: number): Writable {
  let position = 0;
  const append = (buffer: Buffer, callback: (error?: Error) => void): void => {
    const at = position;
    position += buffer.length;
    writeFully(handle, buffer, at).then(
      () => callback(),
      (error: unknown) => callback(fromSystemError(error, 'WRITE', location)),
    );
  };
  return new Writable({
    highWaterMark,
    write: (chunk: Buffer, _encoding, callback) => append(chunk, callback),
    // What piled up while the previous write was in flight goes in one system call.
    writev: (chunks, callback) => append(Buffer.concat(chunks.map(({ chunk }) => chunk as Buffer)), callback),
  });
}

/**
 * A two-phase write of one object: the bytes go to a temporary file in the bucket (created on the
 * first write to it), which `commit` renames over the object, atomically, and `abort` removes.
 * The plugin kit's `twoPhaseWriter` holds the contract's state machine (commit before the stream
 * finished, abort during commit, the signal firing).
 */
export async function openObjectWriter(target: ObjectWriteTarget): Promise<TransportWriter> {
  const { file, location, signal } = target;
  throwIfAborted(signal, COMPONENT, 'WRITE', location.display);
  const temporary = path.join(path.dirname(file), temporarySiblingName(path.basename(file)));
  let handle: FileHandle;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    // `wx`: never write into a file that is already there.
    handle = await open(temporary, 'wx', 0o666);
  } catch (error) {
    throw fromSystemError(error, 'WRITE', location);
  }
  const discard = async (): Promise<void> => {
    await handle.close().catch(() => {});
    await unlink(temporary).catch(() => {});
  };
  if (signal?.aborted) {
    await discard();
    throwIfAborted(signal, COMPONENT, 'WRITE', location.display);
  }
  return twoPhaseWriter({
    stream: fileStream(handle, location, target.highWaterMark),
    component: COMPONENT,
    operation: 'WRITE',
    display: location.display,
    signal,
    async finish() {
      await handle.close();
      await rename(temporary, file);
    },
    discard,
    commitFailure: (error) => fromSystemError(error, 'COMMIT', location),
  });
}
