import { Readable } from 'node:stream';
import { abortedFailure, checkReadRange, pluginFailure, retryBudget, serverPath, throwIfAborted, type RetryBudget } from '@bentoport/plugin-kit';
import type { Location, TransportReadOptions } from '@bentoport/spec';
import * as calls from './sftp-calls.js';
import type { SftpEndpoint } from './sftp-endpoint.js';
import { COMPONENT, sftpFailure } from './sftp-status.js';
import type { SftpConnection, SshPool } from './ssh-connection.js';

export interface ReaderSettings {
  chunkSize: number;
  concurrency: number;
  highWaterMark: number;
  retries: number;
  retryDelayMs: number;
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
  const { start, end: requestedEnd } = checkReadRange(COMPONENT, 'READ', display, options);
  throwIfAborted(signal, COMPONENT, 'READ', display);
  const opened = await pool.run(endpoint, 'READ', display, signal, async (connection) => {
    const remotePath = serverPath(location.path, connection.home);
    const stats = await calls.stat(connection, remotePath);
    if (calls.isDirectoryMode(stats.mode)) throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'READ', display, 'a directory is at this location');
    const handle = await calls.open(connection, remotePath, 'r');
    return { handle, version: { size: stats.size, mtime: stats.mtime }, remotePath };
  }, true);
  const { connection } = opened;
  const { handle, version, remotePath } = opened.result;
  if (signal?.aborted) {
    await calls.close(connection, handle).catch(() => {});
    pool.release(connection);
    throw abortedFailure(COMPONENT, 'READ', display, signal);
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
  const budget: RetryBudget = retryBudget({ retries: settings.retries, retryDelayMs: settings.retryDelayMs, signal });
  /** Where the last failure struck: a failure further on is progress, and earns a fresh set of retries. */
  let positionAtFailure = -1;

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
    output.destroy(abortedFailure(COMPONENT, 'READ', display, signal));
  }
  signal?.addEventListener('abort', onAbort, { once: true });

  function closeConnection(): void {
    const current = connection;
    const currentHandle = handle;
    connection = undefined;
    handle = undefined;
    if (current === undefined) return;
    if (currentHandle !== undefined && !current.closed) calls.close(current, currentHandle).catch(() => {});
    pool.release(current);
  }

  /** Issue requests while the window has room and the consumer is not far behind. */
  function fill(): void {
    if (done || connection === undefined || handle === undefined) return;
    const budget = settings.chunkSize * settings.concurrency;
    while (queue.length < settings.concurrency && requested < end && output.readableLength + (requested - position) < settings.highWaterMark + budget) {
      const length = Math.min(settings.chunkSize, end - requested);
      const result = calls.read(connection, handle, length, requested);
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
          throw pluginFailure(COMPONENT, 'ERR_IO', 'READ', display, `the file ended at ${head.offset}, before ${end}: it changed while being read`);
        }
        if (data.length < head.length && connection !== undefined && handle !== undefined) {
          const offset = head.offset + data.length;
          const result = calls.read(connection, handle, head.length - data.length, offset);
          result.catch(() => {});
          queue.unshift({ offset, length: head.length - data.length, result });
        }
        position += data.length;
        const more = output.push(data);
        fill();
        if (!more) return;
      }
    } catch (error) {
      output.destroy(signal?.aborted ? abortedFailure(COMPONENT, 'READ', display, signal) : sftpFailure(error, 'READ', display, secrets));
    } finally {
      draining = false;
    }
  }

  /** Reconnect after a transient failure and re-request everything not yet handed out; throws once the budget is spent (bounded by it). */
  async function recover(error: unknown): Promise<void> {
    const broken = connection;
    connection = undefined;
    handle = undefined;
    if (broken !== undefined) pool.discard(broken);
    queue.length = 0;
    requested = position;
    const progressed = position > positionAtFailure;
    positionAtFailure = position;
    await budget.retry(sftpFailure(error, 'READ', display, secrets, signal), reopen, progressed);
    if (done) {
      closeConnection();
      return;
    }
    fill();
  }

  /** A fresh connection and handle on the same version of the file; its failures coded. */
  async function reopen(): Promise<void> {
    const fresh = await pool.acquire(endpoint, 'READ', display, signal);
    try {
      const stats = await calls.stat(fresh, remotePath);
      if (stats.size !== version.size || stats.mtime !== version.mtime) {
        throw pluginFailure(COMPONENT, 'ERR_IO', 'READ', display, 'the file changed on the server while it was being read; start again');
      }
      handle = await calls.open(fresh, remotePath, 'r');
      connection = fresh;
    } catch (reopenError) {
      pool.release(fresh);
      throw sftpFailure(reopenError, 'READ', display, secrets, signal);
    }
  }

  return output;
}
