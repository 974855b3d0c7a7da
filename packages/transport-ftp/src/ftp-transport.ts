import type { SecureContextOptions } from 'node:tls';
import {
  BentoportError,
  type Location,
  type Transport,
  type TransportListEntry,
  type TransportStat,
} from '@bentoport/core';
import { ConnectionPool } from './connection-pool.js';
import { resolveEndpoint, serverPath, type EndpointSettings } from './ftp-endpoint.js';
import { ftpFailure, throwIfSignalAborted } from './ftp-errors.js';
import { openFtpReader } from './ftp-reader.js';
import { openFtpWriter } from './ftp-writer.js';
import { inspect, isDirectory } from './remote-file.js';

/** Options of {@link ftpTransport}. */
export interface FtpTransportOptions {
  /**
   * Certificates (PEM) to trust for FTPS besides the system's, e.g. a company CA or a server's
   * self-signed certificate.
   * @default undefined (the system's trusted CAs only)
   */
  ca?: SecureContextOptions['ca'];
  /**
   * Whether an FTPS server's certificate must verify (chain and host name). Turning it off lets
   * anyone on the path read and change the transfer; prefer `ca`.
   * @default true
   */
  rejectUnauthorized?: boolean;
  /**
   * Milliseconds without progress before a connection, a reply or a transfer is given up (and retried).
   * @default 30000
   */
  timeout?: number;
  /**
   * How many times a dropped connection or a transient reply (421, 425, 426, 450, 451) is retried,
   * with exponential backoff; a transfer resumes from the last good byte. Progress resets the count.
   * @default 3
   */
  retries?: number;
  /**
   * Delay before the first retry, in milliseconds; it doubles (with jitter) up to 8 s.
   * @default 250
   */
  retryDelay?: number;
  /**
   * Bytes of an upload kept in memory so that, after a cut, what the server had not stored yet
   * can be sent again. Must cover what is in flight (socket buffers on both sides).
   * @default 16777216 (16 MiB)
   */
  resumeBufferBytes?: number;
  /**
   * Bytes a read stream buffers and a writer stream takes before `write()` returns false.
   * @default 262144 (256 KiB)
   */
  highWaterMark?: number;
  /**
   * Whether a URL without a user name takes its login from `$NETRC` or `~/.netrc`
   * (`machine <host> login <user> password <password>`), as curl does.
   * @default true
   */
  netrc?: boolean;
  /**
   * The environment to read `NETRC` from.
   * @default process.env
   */
  env?: NodeJS.ProcessEnv;
  /**
   * Idle connections kept per server for reuse, and for how long (milliseconds).
   * @default { connections: 4, milliseconds: 10000 }
   */
  idle?: { connections?: number; milliseconds?: number };
}

function positiveInteger(value: unknown, name: string, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`ftpTransport: options.${name} must be a number, got ${typeof value}`);
  if (!Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new BentoportError('ERR_INVALID_OPTION', `[transport-ftp] options.${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${value}`);
  }
  return value;
}

function resolveOptions(options: FtpTransportOptions) {
  if (typeof options !== 'object' || options === null) throw new TypeError('ftpTransport: options must be an object');
  const { rejectUnauthorized = true, netrc = true } = options;
  if (typeof rejectUnauthorized !== 'boolean') throw new TypeError('ftpTransport: options.rejectUnauthorized must be a boolean');
  if (typeof netrc !== 'boolean') throw new TypeError('ftpTransport: options.netrc must be a boolean');
  return {
    timeout: positiveInteger(options.timeout, 'timeout', 30_000),
    retries: positiveInteger(options.retries, 'retries', 3, true),
    retryDelay: positiveInteger(options.retryDelay, 'retryDelay', 250, true),
    resumeBufferBytes: positiveInteger(options.resumeBufferBytes, 'resumeBufferBytes', 16 * 1024 * 1024),
    highWaterMark: positiveInteger(options.highWaterMark, 'highWaterMark', 256 * 1024),
    idleConnections: positiveInteger(options.idle?.connections, 'idle.connections', 4, true),
    idleMilliseconds: positiveInteger(options.idle?.milliseconds, 'idle.milliseconds', 10_000),
    tls: { rejectUnauthorized, ...(options.ca === undefined ? {} : { ca: options.ca }) },
    netrc,
  };
}

/**
 * A transport for `ftp://` and `ftps://` locations on basic-ftp: passive mode, binary transfers,
 * TLS (implicit for `ftps://`, explicit with `?tls=explicit`) with the certificate verified by
 * default. Writes go to a temporary name beside the target (missing directories are created)
 * and are renamed over it on `commit`; `abort` deletes it. Dropped connections are retried with
 * backoff, and transfers resume from the last good byte (REST + RETR, REST + STOR).
 *
 * Paths are absolute on the server, as fsspec reads them: `ftp://host/srv/x.tar` is `/srv/x.tar`;
 * `ftp://host/~/x.tar` is relative to the login directory. Credentials come from the URL
 * (BentoML's `user`/`passwd` arrive there), else `$NETRC`/`~/.netrc`, else anonymous.
 *
 * Errors: `ERR_NOT_FOUND` for a missing file or directory, `ERR_AUTH` for a refused login (530) or
 * an unverified certificate, `ERR_PERMISSION` for a refusal (553, "Permission denied"),
 * `ERR_INVALID_TARGET` for a directory where a file is expected or a bad URL parameter,
 * `ERR_ABORTED` when the signal fires, `ERR_IO` for anything else once retries are spent;
 * messages read `[transport-ftp] <COMMAND> <location.display>: <reply>` with the password as `***`.
 *
 * @example
 * ```ts
 * import { createBentoport } from '@bentoport/core';
 * import { tarFormat } from '@bentoport/format-tar';
 * import { ftpTransport } from '@bentoport/transport-ftp';
 *
 * const bentoport = createBentoport({ formats: [tarFormat()], transports: [ftpTransport({ ca: companyCaPem })] });
 * await bentoport.exportBento('iris:latest', 'ftp://deploy:secret@ftp.example.com/bentos/?tls=explicit');
 * ```
 */
export function ftpTransport(options: FtpTransportOptions = {}): Transport {
  const settings = resolveOptions(options);
  const endpointSettings: EndpointSettings = { netrc: settings.netrc, env: options.env ?? process.env };
  let pool: ConnectionPool | undefined;
  // Created on first use: the factory stays cheap and opens nothing.
  const connections = (): ConnectionPool =>
    (pool ??= new ConnectionPool({
      timeout: settings.timeout,
      retries: settings.retries,
      retryDelay: settings.retryDelay,
      idleTimeout: settings.idleMilliseconds,
      maxIdle: settings.idleConnections,
      tls: settings.tls,
    }));

  async function stat(location: Location, statOptions: { signal?: AbortSignal } = {}): Promise<TransportStat> {
    const { signal } = statOptions;
    throwIfSignalAborted(signal, 'STAT', location.display);
    const endpoint = await resolveEndpoint(location, endpointSettings);
    return connections().run(endpoint, 'STAT', location.display, signal, async ({ client, home }) => {
      const entry = await inspect(client, serverPath(location, home));
      if (entry.type === 'missing') throw ftpFailure('ERR_NOT_FOUND', 'STAT', location.display, 'no such file or directory');
      if (entry.type === 'directory') return { type: 'directory', size: 0 };
      return {
        type: 'file',
        size: entry.size,
        ...(entry.mtime === undefined ? {} : { mtime: entry.mtime }),
        etag: `${entry.size.toString(16)}-${entry.mtime?.getTime().toString(16) ?? '0'}`,
      };
    });
  }

  async function list(location: Location, listOptions: { signal?: AbortSignal } = {}): Promise<TransportListEntry[]> {
    const { signal } = listOptions;
    throwIfSignalAborted(signal, 'LIST', location.display);
    const endpoint = await resolveEndpoint(location, endpointSettings);
    return connections().run(endpoint, 'LIST', location.display, signal, async ({ client, home }) => {
      const directory = serverPath(location, home);
      // LIST answers an empty listing for a missing path, and the file itself for a file.
      if (!(await isDirectory(client, directory))) {
        const entry = await inspect(client, directory);
        if (entry.type === 'file') throw ftpFailure('ERR_INVALID_TARGET', 'LIST', location.display, 'a file, not a directory, is at this location');
        throw ftpFailure('ERR_NOT_FOUND', 'LIST', location.display, 'no such directory');
      }
      const entries = await client.list(directory);
      return entries
        .filter((entry) => entry.name !== '.' && entry.name !== '..')
        .map((entry): TransportListEntry => (entry.isDirectory ? { name: entry.name, type: 'directory', size: 0 } : { name: entry.name, type: 'file', size: entry.size }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    });
  }

  async function remove(location: Location, deleteOptions: { signal?: AbortSignal } = {}): Promise<void> {
    const { signal } = deleteOptions;
    throwIfSignalAborted(signal, 'DELE', location.display);
    const endpoint = await resolveEndpoint(location, endpointSettings);
    await connections().run(endpoint, 'DELE', location.display, signal, async ({ client, home }) => {
      const remotePath = serverPath(location, home);
      const entry = await inspect(client, remotePath);
      if (entry.type === 'missing') throw ftpFailure('ERR_NOT_FOUND', 'DELE', location.display, 'no such file');
      if (entry.type === 'directory') throw ftpFailure('ERR_INVALID_TARGET', 'DELE', location.display, 'a directory is at this location');
      await client.remove(remotePath);
    });
  }

  return {
    apiVersion: 1,
    name: 'transport-ftp',
    protocols: ['ftp', 'ftps'],
    capabilities: { rangedReads: true, list: true, delete: true, atomicCommit: true, resumableWrites: false },
    stat,
    read: async (location, readOptions = {}) =>
      openFtpReader(connections(), await resolveEndpoint(location, endpointSettings), location, readOptions, settings),
    write: async (location, writeOptions = {}) =>
      openFtpWriter(connections(), await resolveEndpoint(location, endpointSettings), location, writeOptions, settings),
    list,
    delete: remove,
  };
}
