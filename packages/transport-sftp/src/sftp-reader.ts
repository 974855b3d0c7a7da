import { Readable } from 'node:stream';
import { backoffDelay, delayUnlessAborted, type Location, type TransportReadOptions } from '@bentoport/core';
import * as calls from './sftp-calls.js';
import { serverPath, type SftpEndpoint } from './sftp-endpoint.js';
import { abortedFailure, fromSftpError, isTransient, sftpFailure, throwIfSignalAborted } from './sftp-errors.js';
import type { SftpConnection, SshPool } from './ssh-connection.js';

export interface ReaderSettings {
  chunkSize: number;
  concurrency: number;
  highWaterMark: number;
  retries: number;
  retryDelay: number;
}

interface Version {
  size: number;
  mtime: number | undefined;
}

interface Request {
  offset: number;
  length: number;
  result: Promise<Buffer>;
}

function checkRange(start: number, end: number, location: Location): void {
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new RangeError(`[transport-sftp] READ ${location.display}: start must be a non-negative integer, got ${start}`);
  }
  if (end !== Infinity && (!Number.isSafeInteger(end) || end < start)) {
    throw new RangeError(`[transport-sftp] READ ${location.display}: end must be an integer >= start, got ${end}`);
  }
}

/**
 * Open the file (a missing one rejects here with ERR_NOT_FOUND), then stream `[start, end)` with
 * up to `concurrency` READ requests of `chunkSize` in flight, delivered in order. Requests are
 * issued only while the consumer keeps up, so memory stays within the high-water mark plus the
 * window. A dropped connection reconnects and resumes at the last byte handed out, after
 * checking that size and mtime did not change.
 */
export async function openSftpReader(
  pool: SshPool,
  endpoint: SftpEndpoint,
  location: Location,
  options: TransportReadOptions,
  settings: ReaderSettings,
): Promise<Readable> {
  const { signal } = options;
  const { display } = location;
  const start = options.start ?? 0;
  const requestedEnd = options.end ?? Infinity;
  checkRange(start, requestedEnd, location);
  throwIfSignalAborted(signal, 'READ', display);
  let opened: { connection: SftpConnection; result: { handle: Buffer; version: Version; remotePath: string } };
  try {
    opened = await pool.run(endpoint, 'READ', display, signal, async (connection) => {
      const remotePath = serverPath(location, connection.home);
      const stats = await calls.stat(connection.sftp, remotePath);
      if (calls.isDirectoryMode(stats.mode)) throw sftpFailure('ERR_INVALID_TARGET', 'READ', display, 'a directory is at this location');
      const handle = await calls.open(connection.sftp, remotePath, 'r');
      return { handle, version: { size: stats.size, mtime: stats.mtime }, remotePath };
    }, true);
  } catch (error) {
    throw fromSftpError(error, 'READ', display, [endpoint.password ?? '']);
  }
  const { connection } = opened;
  const { handle, version, remotePath } = opened.result;
  if (signal?.aborted) {
    await calls.close(connection.sftp, handle).catch(() => {});
    pool.release(connection);
    throw abortedFailure('READ', display, signal);
  }
  const end = Math.min(requestedEnd, version.size);
  return pipelinedStream({ pool, endpoint, display, remotePath, connection, handle, start, end, version, signal, settings });
}

interface StreamParts {
  pool: SshPool;
  endpoint: SftpEndpoint;
  display: string;
  remotePath: string;
  connection: SftpConnection;
  handle: Buffer;
  start: number;
  end: number;
  version: Version;
  signal: AbortSignal | undefined;
  settings: ReaderSettings;
}

function pipelinedStream(parts: StreamParts): Readable {
  const { pool, endpoint, display, remotePath, end, version, signal, settings } = parts;
  const secrets = [endpoint.password ?? ''];
  let connection: SftpConnection | undefined = parts.connection;
  let handle: Buffer | undefined = parts.handle;
  /** Next byte to hand out, and next byte to request. */
  let position = parts.start;
  let requested = parts.start;
  const queue: Request[] = [];
  let draining = false;
  let done = false;
  let failures = 0;

  const output = new Readable({
    highWaterMark: settings.highWaterMark,
    read() {
      fill();
      void drain();
    },
    destroy(error, callback) {
      done = true;
      signal?.removeEventListener('abort', onAbort);
      closeConnection();
      callback(error);
    },
  });

  function onAbort(): void {
    output.destroy(abortedFailure('READ', display, signal!));
  }
  signal?.addEventListener('abort', onAbort, { once: true });

  function closeConnection(): void {
    const current = connection;
    const currentHandle = handle;
    connection = undefined;
    handle = undefined;
    if (current === undefined) return;
    if (currentHandle !== undefined && !current.closed) calls.close(current.sftp, currentHandle).catch(() => {});
    pool.release(current);
  }

  /** Issue requests while the window has room and the consumer is not far behind. */
  function fill(): void {
    if (done || connection === undefined || handle === undefined) return;
    const budget = settings.chunkSize * settings.concurrency;
    while (queue.length < settings.concurrency && requested < end && output.readableLength + (requested - position) < settings.highWaterMark + budget) {
      const length = Math.min(settings.chunkSize, end - requested);
      const result = calls.read(connection.sftp, handle, length, requested);
      result.catch(() => {});
      queue.push({ offset: requested, length, result });
      requested += length;
    }
  }

  /** Hand completed requests out in order; a short read asks again for the rest. */
  async function drain(): Promise<void> {
    if (draining) return;
    draining = true;
    try {
      while (!done) {
        if (position >= end) {
          done = true;
          signal?.removeEventListener('abort', onAbort);
          closeConnection();
          output.push(null);
          return;
        }
        const head = queue[0];
        if (head === undefined) return;
        let data: Buffer;
        try {
          data = await head.result;
        } catch (error) {
          if (done) return;
          await recover(error);
          continue;
        }
        if (done) return;
        queue.shift();
        if (data.length === 0) {
          throw sftpFailure('ERR_IO', 'READ', display, `the file ended at ${head.offset}, before ${end}: it changed while being read`);
        }
        if (data.length < head.length && connection !== undefined && handle !== undefined) {
          const offset = head.offset + data.length;
          const result = calls.read(connection.sftp, handle, head.length - data.length, offset);
          result.catch(() => {});
          queue.unshift({ offset, length: head.length - data.length, result });
        }
        position += data.length;
        failures = 0;
        const more = output.push(data);
        fill();
        if (!more) return;
      }
    } catch (error) {
      output.destroy(fromSftpError(error, 'READ', display, secrets));
    } finally {
      draining = false;
    }
  }

  /** Reconnect after a transient failure and re-request everything not yet handed out. */
  async function recover(error: unknown): Promise<void> {
    const broken = connection;
    connection = undefined;
    handle = undefined;
    if (broken !== undefined) pool.discard(broken);
    queue.length = 0;
    requested = position;
    if (signal?.aborted) throw abortedFailure('READ', display, signal);
    failures++;
    if (!isTransient(error) || failures > settings.retries) throw error;
    await delayUnlessAborted(backoffDelay(failures, { baseMilliseconds: settings.retryDelay }), signal).catch(() => {
      throw abortedFailure('READ', display, signal!);
    });
    const fresh = await pool.acquire(endpoint, 'READ', display, signal);
    try {
      const stats = await calls.stat(fresh.sftp, remotePath);
      if (stats.size !== version.size || stats.mtime !== version.mtime) {
        throw sftpFailure('ERR_IO', 'READ', display, 'the file changed on the server while it was being read; start again');
      }
      handle = await calls.open(fresh.sftp, remotePath, 'r');
      connection = fresh;
    } catch (reopenError) {
      pool.release(fresh);
      throw reopenError;
    }
    if (done) {
      closeConnection();
      return;
    }
    fill();
  }

  return output;
}
