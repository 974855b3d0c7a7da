import type { Dirent } from 'node:fs';
import { readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { optionChecks, pluginFailure, throwIfAborted, toBentoportError } from '@bentoport/plugin-kit';
import type { Location, Transport, TransportListEntry, TransportStat } from '@bentoport/spec';
import { openFileReader } from './file-reader.js';
import { openFileWriter } from './file-writer.js';
import { COMPONENT, localPath } from './local-path.js';

/** Options of {@link fsTransport}. */
export interface FsTransportOptions {
  /**
   * Bytes a read stream buffers (and reads per system call) and a writer stream buffers before
   * `write()` returns false. A megabyte keeps reads and writes overlapping: with 64 KiB, every
   * chunk waits for the previous write's round trip and a tar export runs at half the speed.
   * A ranged read (`start` or `end` given) reads at most 256 KiB at a time (RANGED_READ_BYTES):
   * a zip import runs several at once, and 1 MiB ones cost 40 MiB of peak RSS.
   * @default 1048576
   */
  highWaterMark?: number;
  /**
   * Whether `commit()` flushes the file to disk before the rename and the directory after it,
   * so a committed bento survives a power cut. The file's flush starts as soon as its last byte
   * is written, and `commit()` waits for it. Turn off only for scratch data (tests, tmpfs).
   * @default true
   */
  fsync?: boolean;
}

const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;

function resolveOptions(options: FsTransportOptions): Required<FsTransportOptions> {
  const check = optionChecks(COMPONENT);
  check.object(options);
  return {
    highWaterMark: check.integer('highWaterMark', options.highWaterMark, DEFAULT_HIGH_WATER_MARK, 1),
    fsync: check.boolean('fsync', options.fsync, true),
  };
}

async function statLocation(location: Location, options: { signal?: AbortSignal } = {}): Promise<TransportStat> {
  throwIfAborted(options.signal, COMPONENT, 'STAT', location.display);
  const filePath = localPath(location, 'STAT');
  try {
    const stats = await stat(filePath, { bigint: true });
    const isDirectory = stats.isDirectory();
    return {
      type: isDirectory ? 'directory' : 'file',
      size: isDirectory ? 0 : Number(stats.size),
      mtime: new Date(Number(stats.mtimeMs)),
      // A rename gives a new inode, and a rewrite in place changes the size or the mtime.
      etag: `${stats.ino.toString(16)}-${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}`,
    };
  } catch (error) {
    throw toBentoportError(error, COMPONENT, 'STAT', location.display);
  }
}

async function entryOf(directory: string, entry: Dirent): Promise<TransportListEntry | undefined> {
  // Follow symbolic links, as stat does; a dangling one names nothing and is left out.
  const stats = await stat(path.join(directory, entry.name)).catch(() => undefined);
  if (stats === undefined) return undefined;
  return stats.isDirectory()
    ? { name: entry.name, type: 'directory', size: 0 }
    : { name: entry.name, type: 'file', size: stats.size };
}

async function listLocation(location: Location, options: { signal?: AbortSignal } = {}): Promise<TransportListEntry[]> {
  throwIfAborted(options.signal, COMPONENT, 'LIST', location.display);
  const directory = localPath(location, 'LIST');
  let entries: Dirent[];
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    const isFile = (error as NodeJS.ErrnoException).code === 'ENOTDIR' && (await stat(directory).then((s) => s.isFile(), () => false));
    if (isFile) throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'LIST', location.display, 'a file, not a directory, is at this location', { cause: error });
    throw toBentoportError(error, COMPONENT, 'LIST', location.display);
  }
  const listed = await Promise.all(entries.map((entry) => entryOf(directory, entry)));
  return listed.filter((entry): entry is TransportListEntry => entry !== undefined).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function deleteLocation(location: Location, options: { signal?: AbortSignal } = {}): Promise<void> {
  throwIfAborted(options.signal, COMPONENT, 'DELETE', location.display);
  const filePath = localPath(location, 'DELETE');
  try {
    await unlink(filePath);
  } catch (error) {
    // Linux says EISDIR for a directory, macOS says EPERM: both mean "not a file".
    const isDirectory = await stat(filePath).then((s) => s.isDirectory(), () => false);
    if (isDirectory) throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'DELETE', location.display, 'a directory is at this location', { cause: error });
    throw toBentoportError(error, COMPONENT, 'DELETE', location.display);
  }
}

/**
 * A transport for local paths (`file` locations). Writes go to a temporary file beside the
 * target and are renamed over it on `commit`, so readers see the old file or the whole new one;
 * `abort` removes the temporary file. Like BentoML, a missing parent directory is not created.
 *
 * Errors: `ERR_NOT_FOUND` for a missing file or parent directory, `ERR_INVALID_TARGET` for a
 * directory where a file is expected, `ERR_ABORTED` when the signal fires, `ERR_PERMISSION` for a
 * permission denied, `ERR_IO` for anything else; messages read
 * `[transport-fs] <OPERATION> <location.display>: <reason>`.
 *
 * @example
 * ```ts
 * import { pipeline } from 'node:stream/promises';
 * import { fsTransport } from '@bentoport/transport-fs';
 *
 * const transport = fsTransport();
 * const location = { protocol: 'file', host: '', path: '/tmp/iris.bento', query: '', display: '/tmp/iris.bento' };
 * const writer = await transport.write(location);
 * try {
 *   await pipeline(archiveStream, writer.stream);
 *   await writer.commit();
 * } catch (error) {
 *   await writer.abort(error);
 *   throw error;
 * }
 * ```
 */
export function fsTransport(options: FsTransportOptions = {}): Transport {
  const settings = resolveOptions(options);
  return {
    apiVersion: 1,
    name: 'transport-fs',
    protocols: ['file'],
    capabilities: { rangedReads: true, list: true, delete: true, atomicCommit: true, resumableWrites: false },
    stat: statLocation,
    read: (location, readOptions = {}) => openFileReader(location, readOptions, settings.highWaterMark),
    write: (location, writeOptions = {}) => openFileWriter(location, writeOptions, settings),
    list: listLocation,
    delete: deleteLocation,
  };
}
