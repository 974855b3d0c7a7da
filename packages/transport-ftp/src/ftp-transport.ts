import { optionChecks, pluginFailure, resolveNetworkOptions, serverPath, throwIfAborted, type NetworkOptions } from '@bentoport/plugin-kit';
import type { Location, Transport, TransportListEntry, TransportStat } from '@bentoport/spec';
import { ConnectionPool } from './connection-pool.js';
import { resolveEndpoint, type EndpointSettings } from './ftp-endpoint.js';
import { openFtpReader } from './ftp-reader.js';
import { COMPONENT } from './ftp-replies.js';
import { openFtpWriter } from './ftp-writer.js';
import { inspect, isDirectory } from './remote-file.js';

/**
 * Options of {@link ftpTransport}. The network options are the kit's: `ca` and
 * `rejectUnauthorized` apply to FTPS; `retries` covers dropped connections and the transient
 * replies 421, 425, 426, 450 and 451, and a transfer resumes from the last good byte (progress
 * resets the count); `env` is where `NETRC` is read.
 */
export interface FtpTransportOptions extends NetworkOptions {
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
   * Idle connections kept per server for the next operation (FTP runs one command at a time per
   * connection, so each operation in flight has its own).
   * @default 4
   */
  maxIdleConnections?: number;
  /**
   * Milliseconds an unused connection stays open for the next operation.
   * @default 10000
   */
  connectionIdleMs?: number;
}

function resolveOptions(options: FtpTransportOptions) {
  const check = optionChecks(COMPONENT);
  check.renamed(options, { idle: 'maxIdleConnections (idle.connections) and connectionIdleMs (idle.milliseconds)' });
  const network = resolveNetworkOptions(COMPONENT, options);
  return {
    network,
    resumeBufferBytes: check.integer('resumeBufferBytes', options.resumeBufferBytes, 16 * 1024 * 1024, 1),
    highWaterMark: check.integer('highWaterMark', options.highWaterMark, 256 * 1024, 1),
    maxIdleConnections: check.integer('maxIdleConnections', options.maxIdleConnections, 4),
    connectionIdleMs: check.integer('connectionIdleMs', options.connectionIdleMs, 10_000, 1),
    netrc: check.boolean('netrc', options.netrc, true),
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
 * `ERR_ABORTED` when the signal fires, `ERR_IO` for anything else once retries are spent (a
 * server that accepts the connection and never answers included: the login must finish within
 * `connectTimeoutMs`, and no reply or transfer may stall for `timeoutMs`); messages read
 * `[transport-ftp] <COMMAND> <location.display>: <reply>` with the password as `***`.
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
  const { network } = settings;
  const endpointSettings: EndpointSettings = { netrc: settings.netrc, env: network.env };
  const transferSettings = { ...settings, retries: network.retries, retryDelayMs: network.retryDelayMs };
  let pool: ConnectionPool | undefined;
  // Created on first use: the factory stays cheap and opens nothing.
  const connections = (): ConnectionPool =>
    (pool ??= new ConnectionPool({
      connectTimeoutMs: network.connectTimeoutMs,
      timeoutMs: network.timeoutMs,
      retries: network.retries,
      retryDelayMs: network.retryDelayMs,
      connectionIdleMs: settings.connectionIdleMs,
      maxIdleConnections: settings.maxIdleConnections,
      tls: { rejectUnauthorized: network.rejectUnauthorized, ...(network.ca === undefined ? {} : { ca: network.ca }) },
    }));

  async function stat(location: Location, statOptions: { signal?: AbortSignal } = {}): Promise<TransportStat> {
    const { signal } = statOptions;
    throwIfAborted(signal, COMPONENT, 'STAT', location.display);
    const endpoint = await resolveEndpoint(location, endpointSettings);
    return connections().run(endpoint, 'STAT', location.display, signal, async ({ client, home }) => {
      const entry = await inspect(client, serverPath(location.path, home));
      if (entry.type === 'missing') throw pluginFailure(COMPONENT, 'ERR_NOT_FOUND', 'STAT', location.display, 'no such file or directory');
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
    throwIfAborted(signal, COMPONENT, 'LIST', location.display);
    const endpoint = await resolveEndpoint(location, endpointSettings);
    return connections().run(endpoint, 'LIST', location.display, signal, async ({ client, home }) => {
      const directory = serverPath(location.path, home);
      // LIST answers an empty listing for a missing path, and the file itself for a file.
      if (!(await isDirectory(client, directory))) {
        const entry = await inspect(client, directory);
        if (entry.type === 'file') throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'LIST', location.display, 'a file, not a directory, is at this location');
        throw pluginFailure(COMPONENT, 'ERR_NOT_FOUND', 'LIST', location.display, 'no such directory');
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
    throwIfAborted(signal, COMPONENT, 'DELE', location.display);
    const endpoint = await resolveEndpoint(location, endpointSettings);
    await connections().run(endpoint, 'DELE', location.display, signal, async ({ client, home }) => {
      const remotePath = serverPath(location.path, home);
      const entry = await inspect(client, remotePath);
      if (entry.type === 'missing') throw pluginFailure(COMPONENT, 'ERR_NOT_FOUND', 'DELE', location.display, 'no such file');
      if (entry.type === 'directory') throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'DELE', location.display, 'a directory is at this location');
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
      openFtpReader(connections(), await resolveEndpoint(location, endpointSettings), location, readOptions, transferSettings),
    write: async (location, writeOptions = {}) =>
      openFtpWriter(connections(), await resolveEndpoint(location, endpointSettings), location, writeOptions, transferSettings),
    list,
    delete: remove,
  };
}
