import { Readable, Writable } from 'node:stream';
import { backoffDelay, delayUnlessAborted, type Location, type TransportReadOptions } from '@bentoport/core';
import type { ConnectionPool, FtpConnection } from './connection-pool.js';
import { serverPath, type FtpEndpoint } from './ftp-endpoint.js';
import { abortedFailure, fromFtpError, ftpFailure, isTransient, throwIfSignalAborted } from './ftp-errors.js';
import { inspect } from './remote-file.js';

export interface ReaderSettings {
  highWaterMark: number;
  retries: number;
  retryDelay: number;
}

function checkRange(start: number, end: number, location: Location): void {
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new RangeError(`[transport-ftp] RETR ${location.display}: start must be a non-negative integer, got ${start}`);
  }
  if (end !== Infinity && (!Number.isSafeInteger(end) || end < start)) {
    throw new RangeError(`[transport-ftp] RETR ${location.display}: end must be an integer >= start, got ${end}`);
  }
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
  const start = options.start ?? 0;
  const requestedEnd = options.end ?? Infinity;
  checkRange(start, requestedEnd, location);
  throwIfSignalAborted(signal, 'RETR', location.display);
  let remotePath = '';
  const version = await pool.run(endpoint, 'RETR', location.display, signal, async ({ client, home }): Promise<Version> => {
    remotePath = serverPath(location, home);
    const entry = await inspect(client, remotePath);
    if (entry.type === 'missing') throw ftpFailure('ERR_NOT_FOUND', 'RETR', location.display, 'no such file');
    if (entry.type === 'directory') throw ftpFailure('ERR_INVALID_TARGET', 'RETR', location.display, 'a directory is at this location');
    return { size: entry.size, mtime: entry.mtime?.getTime() };
  });
  throwIfSignalAborted(signal, 'RETR', location.display);
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
    output.destroy(abortedFailure('RETR', display, signal!));
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
    if (!same) throw ftpFailure('ERR_IO', 'RETR', display, 'the file changed on the server while it was being read; start again');
  }

  async function pump(): Promise<void> {
    if (position >= end) {
      finish();
      return;
    }
    let failures = 0;
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
          const short = ftpFailure('ERR_IO', 'RETR', display, `the data connection ended at byte ${position} of ${end}`);
          short.details.transient = true;
          throw short;
        }
        pool.release(connection);
        connection = undefined;
        finish();
        return;
      } catch (error) {
        connection?.client.close();
        connection = undefined;
        if (settled) return;
        if (signal?.aborted) {
          output.destroy(abortedFailure('RETR', display, signal));
          return;
        }
        // Progress since the last failure earns a fresh set of retries.
        failures = position > from ? 1 : failures + 1;
        if (!isTransient(error) || failures > settings.retries) {
          output.destroy(fromFtpError(error, 'RETR', display, endpoint.secrets));
          return;
        }
        try {
          await delayUnlessAborted(backoffDelay(failures, { baseMilliseconds: settings.retryDelay }), signal);
        } catch {
          output.destroy(abortedFailure('RETR', display, signal!));
          return;
        }
      }
    }
  }

  return output;
}
