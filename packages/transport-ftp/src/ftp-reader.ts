import { Readable, Writable } from 'node:stream';
import { abortedFailure, checkReadRange, pluginFailure, retryBudget, serverPath, throwIfAborted } from '@bentoport/plugin-kit';
import type { Location, TransportReadOptions } from '@bentoport/spec';
import type { ConnectionPool, FtpConnection } from './connection-pool.js';
import type { FtpEndpoint } from './ftp-endpoint.js';
import { COMPONENT, ftpFailure } from './ftp-replies.js';
import { inspect } from './remote-file.js';

export interface ReaderSettings {
  highWaterMark: number;
  retries: number;
  retryDelayMs: number;
}

interface Version {
  size: number;
  mtime: number | undefined;
}

/**
 * Check that the path is a file (so a missing one rejects here, with ERR_NOT_FOUND), then stream
 * `[start, end)` with RETR. A dropped connection is resumed with REST from the last byte handed
 * out, after checking that size and modification time are unchanged, so a resumed read never
 * mixes two versions of a file. The range's end is honoured by closing the connection early.
 */
export async function openFtpReader(
  pool: ConnectionPool,
  endpoint: FtpEndpoint,
  location: Location,
  options: TransportReadOptions,
  settings: ReaderSettings,
): Promise<Readable> {
  const { signal } = options;
  const { start, end: requestedEnd } = checkReadRange(COMPONENT, 'RETR', location.display, options);
  throwIfAborted(signal, COMPONENT, 'RETR', location.display);
  let remotePath = '';
  const version = await pool.run(endpoint, 'RETR', location.display, signal, async ({ client, home }): Promise<Version> => {
    remotePath = serverPath(location.path, home);
    const entry = await inspect(client, remotePath);
    if (entry.type === 'missing') throw pluginFailure(COMPONENT, 'ERR_NOT_FOUND', 'RETR', location.display, 'no such file');
    if (entry.type === 'directory') throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'RETR', location.display, 'a directory is at this location');
    return { size: entry.size, mtime: entry.mtime?.getTime() };
  });
  throwIfAborted(signal, COMPONENT, 'RETR', location.display);
  const end = Math.min(requestedEnd, version.size);
  return retrieveStream({ pool, endpoint, location, remotePath, start, end, version, signal, settings });
}

interface RetrieveParts {
  pool: ConnectionPool;
  endpoint: FtpEndpoint;
  location: Location;
  remotePath: string;
  start: number;
  end: number;
  version: Version;
  signal: AbortSignal | undefined;
  settings: ReaderSettings;
}

function retrieveStream(parts: RetrieveParts): Readable {
  const { pool, endpoint, location, remotePath, end, version, signal, settings } = parts;
  const { display } = location;
  let position = parts.start;
  let waiting: (() => void) | undefined;
  let connection: FtpConnection | undefined;
  let started = false;
  let settled = false;

  const output = new Readable({
    highWaterMark: settings.highWaterMark,
    read() {
      if (!started) {
        started = true;
        void pump();
      }
      const resume = waiting;
      waiting = undefined;
      resume?.();
    },
    destroy(error, callback) {
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      connection?.client.close();
      callback(error);
    },
  });

  function onAbort(): void {
    output.destroy(abortedFailure(COMPONENT, 'RETR', display, signal));
  }
  signal?.addEventListener('abort', onAbort, { once: true });

  function finish(): void {
    settled = true;
    signal?.removeEventListener('abort', onAbort);
    output.push(null);
  }

  /** A sink for one RETR: hands bytes to `output` and holds the socket while `output` is full. */
  function sink(): Writable {
    return new Writable({
      highWaterMark: 0,
      write(chunk: Buffer, _encoding, callback) {
        if (settled) {
          callback();
          return;
        }
        const wanted = Math.min(chunk.length, end - position);
        position += wanted;
        const accepted = output.push(wanted === chunk.length ? chunk : chunk.subarray(0, wanted));
        if (position >= end) {
          // The range is done: stop the transfer by dropping this connection.
          const done = connection;
          connection = undefined;
          finish();
          done?.client.close();
          callback();
          return;
        }
        if (accepted) callback();
        else waiting = () => callback();
      },
    });
  }

  async function checkUnchanged(client: FtpConnection['client']): Promise<void> {
    const entry = await inspect(client, remotePath);
    const same = entry.type === 'file' && entry.size === version.size && entry.mtime?.getTime() === version.mtime;
    if (!same) throw pluginFailure(COMPONENT, 'ERR_IO', 'RETR', display, 'the file changed on the server while it was being read; start again');
  }

  /** RETR from `position` on, on a fresh or idle connection, until the range is done or the budget is spent. */
  async function pump(): Promise<void> {
    if (position >= end) {
      finish();
      return;
    }
    const budget = retryBudget({ retries: settings.retries, retryDelayMs: settings.retryDelayMs, signal });
    for (;;) {
      const from = position;
      try {
        connection = await pool.acquire(endpoint, 'RETR', display, signal);
        if (settled) {
          connection.client.close();
          return;
        }
        if (from > parts.start) await checkUnchanged(connection.client);
        await connection.client.downloadTo(sink(), remotePath, from);
        if (settled) return;
        if (position < end) {
          // The data connection ended early although the server reported success: resume.
          throw pluginFailure(COMPONENT, 'ERR_IO', 'RETR', display, `the data connection ended at byte ${position} of ${end}`, { transient: true });
        }
        pool.release(connection);
        connection = undefined;
        finish();
        return;
      } catch (error) {
        connection?.client.close();
        connection = undefined;
        if (settled) return;
        const failure = ftpFailure(error, 'RETR', display, endpoint.secrets, signal);
        try {
          // Progress since the last failure earns a fresh set of retries.
          await budget.afterFailure(failure, position > from);
        } catch {
          output.destroy(signal?.aborted ? abortedFailure(COMPONENT, 'RETR', display, signal) : failure);
          return;
        }
      }
    }
  }

  return output;
}
