import { homedir, userInfo } from 'node:os';
import path from 'node:path';
import { optionChecks, pluginFailure, resolveNetworkOptions, serverPath, throwIfAborted, type NetworkOptions, type OptionChecks } from '@bentoport/plugin-kit';
import type { Location, Transport, TransportListEntry, TransportStat } from '@bentoport/spec';
import * as calls from './sftp-calls.js';
import { resolveEndpoint, type EndpointSettings } from './sftp-endpoint.js';
import { openSftpReader } from './sftp-reader.js';
import { COMPONENT } from './sftp-status.js';
import { openSftpWriter } from './sftp-writer.js';
import { defaultKnownHosts, defaultPrivateKeyPaths, SshPool, type SftpConnection } from './ssh-connection.js';
import { expandHome } from './ssh-config.js';

/**
 * Options of {@link sftpTransport}. The network options are the kit's, less `ca` and
 * `rejectUnauthorized`: SSH trusts servers by their host keys (`knownHosts`,
 * `hostKeyFingerprint`), not by certificate authorities. `connectTimeoutMs` bounds the TCP
 * connect, the SSH handshake and the login; `timeoutMs` fails a connection whose requests get no
 * reply for that long; `env` is where `SSH_AUTH_SOCK`, `NETRC` and `HOME` (for every `~` path)
 * are read.
 */
export interface SftpTransportOptions extends Omit<NetworkOptions, 'ca' | 'rejectUnauthorized'> {
  /**
   * A private key (OpenSSH or PEM text) to log in with. Without it, the first of
   * `~/.ssh/id_ed25519`, `~/.ssh/id_ecdsa`, `~/.ssh/id_rsa` that exist are offered.
   * @default undefined
   */
  privateKey?: string | Buffer;
  /**
   * Paths of private keys to offer instead of the default ones.
   * @default ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa']
   */
  privateKeyPath?: string | string[];
  /**
   * The passphrase of an encrypted private key. Never printed.
   * @default undefined
   */
  passphrase?: string;
  /**
   * The ssh-agent socket to ask for keys, or `false` not to use an agent.
   * @default env.SSH_AUTH_SOCK
   */
  agent?: string | false;
  /**
   * known_hosts files to check the server's host key against (hashed `|1|` entries, `[host]:port`
   * names, patterns and `@revoked` are understood), or `false` to trust only `hostKeyFingerprint`.
   * An unknown or changed key fails with ERR_AUTH naming its SHA256 fingerprint.
   * @default ['~/.ssh/known_hosts', '/etc/ssh/ssh_known_hosts']
   */
  knownHosts?: string | string[] | false;
  /**
   * Host key fingerprints to accept whatever known_hosts says, as `ssh-keygen -lf` prints them
   * (`SHA256:…`).
   * @default []
   */
  hostKeyFingerprint?: string | string[];
  /**
   * Milliseconds between SSH keep-alive messages; three unanswered ones close the connection
   * (and a transfer reconnects). 0 turns them off.
   * @default 15000
   */
  keepaliveIntervalMs?: number;
  /**
   * Bytes per READ or WRITE request. The default is OpenSSH's largest (its `limits@openssh.com`
   * maximum); ssh2 splits requests for servers that announce less, or do not say (34 kB). Every
   * request costs a packet and a socket write each way, so four times fewer of them made a 1 GiB
   * transfer over OpenSSH ~20% faster than 64 KiB requests.
   * @default 261120 (255 KiB)
   */
  chunkSize?: number;
  /**
   * Requests in flight at once per transfer: memory is about `chunkSize × concurrency` on top of
   * the streams' high-water mark, and `chunkSize × concurrency` bytes in flight is what keeps a
   * long link busy (2 MiB, as OpenSSH's `sftp`: 64 requests of 32 KiB).
   * @default 8
   */
  concurrency?: number;
  /**
   * Bytes a read stream buffers and a writer stream takes before `write()` returns false.
   * @default 262144 (256 KiB)
   */
  highWaterMark?: number;
  /**
   * Whether `commit()` asks the server to flush the file to disk (fsync@openssh.com, where offered).
   * @default true
   */
  fsync?: boolean;
  /**
   * Whether a URL without a user name or password takes them from `$NETRC` or `~/.netrc`.
   * @default true
   */
  netrc?: boolean;
  /**
   * Milliseconds an unused connection stays open for the next operation.
   * @default 100
   */
  connectionIdleMs?: number;
  /**
   * The OpenSSH client configuration to read, so that `sftp://myalias/path` reaches the host that
   * `sftp myalias` reaches: `Host` blocks (and `Include`d files) give `HostName`, `User`, `Port`,
   * `IdentityFile`, `IdentitiesOnly`, `UserKnownHostsFile` and `ConnectTimeout`. The URL's user
   * and port win over the file, and options given here win over it. A host whose configuration
   * sets `ProxyJump` or `ProxyCommand` is refused with ERR_INVALID_OPTION rather than reached
   * directly. `false` reads no file. A path given here must exist; the default may be missing.
   * @default '~/.ssh/config'
   */
  sshConfigPath?: string | false;
}

/** OpenSSH's largest READ/WRITE payload (its `limits@openssh.com` maximum). */
const MAX_CHUNK_SIZE = 255 * 1024;

function list(value: string | string[] | undefined): string[] | undefined {
  return value === undefined ? undefined : Array.isArray(value) ? value : [value];
}

function hostKeyFingerprints(options: SftpTransportOptions, check: OptionChecks): string[] {
  const fingerprints = list(options.hostKeyFingerprint) ?? [];
  for (const fingerprint of fingerprints) {
    if (!/^SHA256:[A-Za-z0-9+/]{43}$/.test(fingerprint)) throw check.invalid('hostKeyFingerprint', 'SHA256:<43 base64 characters>', fingerprint);
  }
  return fingerprints;
}

function sshConfig(options: SftpTransportOptions, home: string): { path: string; required: boolean } | false {
  const value = options.sshConfigPath;
  if (value === false) return false;
  if (value === undefined) return { path: path.join(home, '.ssh', 'config'), required: false };
  if (typeof value !== 'string') throw new TypeError(`${COMPONENT}: options.sshConfigPath must be a string or false, got ${value === null ? 'null' : typeof value}`);
  return { path: expandHome(value, home), required: true };
}

function resolveOptions(options: SftpTransportOptions) {
  const check = optionChecks(COMPONENT);
  check.renamed(options, { keepaliveInterval: 'keepaliveIntervalMs', idleMilliseconds: 'connectionIdleMs' });
  const network = resolveNetworkOptions(COMPONENT, options);
  const chunkSize = check.integer('chunkSize', options.chunkSize, MAX_CHUNK_SIZE, 1024, MAX_CHUNK_SIZE);
  const { env } = network;
  const home = env.HOME || homedir();
  const agent = options.agent === undefined ? env.SSH_AUTH_SOCK || undefined : options.agent === false ? undefined : options.agent;
  const { retries, retryDelayMs } = network;
  return {
    connection: {
      privateKey: options.privateKey,
      privateKeyPaths: list(options.privateKeyPath) ?? (options.privateKey === undefined ? defaultPrivateKeyPaths(home) : []),
      passphrase: options.passphrase,
      agent,
      knownHosts: options.knownHosts === false ? (false as const) : (list(options.knownHosts) ?? defaultKnownHosts(home)),
      hostKeyFingerprints: hostKeyFingerprints(options, check),
      connectTimeoutMs: network.connectTimeoutMs,
      timeoutMs: network.timeoutMs,
      keepaliveIntervalMs: check.integer('keepaliveIntervalMs', options.keepaliveIntervalMs, 15_000),
      retries,
      retryDelayMs,
      connectionIdleMs: check.integer('connectionIdleMs', options.connectionIdleMs, 100),
    },
    transfer: {
      chunkSize,
      concurrency: check.integer('concurrency', options.concurrency, 8, 1),
      highWaterMark: check.integer('highWaterMark', options.highWaterMark, 256 * 1024, 1),
      retries,
      retryDelayMs,
      fsync: check.boolean('fsync', options.fsync, true),
    },
    netrc: check.boolean('netrc', options.netrc, true),
    env,
    home,
    sshConfig: sshConfig(options, home),
    given: {
      privateKeys: options.privateKey !== undefined || options.privateKeyPath !== undefined,
      agent: options.agent !== undefined,
      knownHosts: options.knownHosts !== undefined,
      connectTimeoutMs: options.connectTimeoutMs !== undefined,
    },
  };
}

/**
 * A transport for `sftp://` locations on ssh2 (pure JavaScript). Logs in with ssh-agent, private
 * keys and the URL's password, in that order; checks the server's host key against known_hosts
 * (or given fingerprints) and refuses an unknown or changed one. Transfers keep several requests
 * in flight; writes go to a temporary file beside the target (missing directories are created),
 * renamed over it on `commit` with posix-rename@openssh.com; `abort` removes it. A dropped
 * connection is reopened with backoff and the transfer resumes where the server left off.
 *
 * Paths are absolute on the server (`sftp://host/srv/x.tar` is `/srv/x.tar`); `/~/` starts from
 * the login directory. The host may be an alias of `~/.ssh/config` (`sshConfigPath`). Without a
 * user in the URL, the SSH configuration's `User`, else netrc's login, else the local user name.
 *
 * Errors: `ERR_NOT_FOUND` for a missing file or directory, `ERR_AUTH` for a refused login or an
 * unknown, changed or revoked host key (the message names its SHA256 fingerprint),
 * `ERR_PERMISSION` for a refusal by the server, `ERR_INVALID_TARGET` for a directory where a file
 * is expected, `ERR_INVALID_OPTION` for a malformed SSH configuration line (naming the file and
 * line) or a host configured with `ProxyJump`/`ProxyCommand`, `ERR_ABORTED` when the signal fires, `ERR_IO` for anything else once retries are
 * spent; messages read `[transport-sftp] <OPERATION> <location.display>: <reason>`, secrets as `***`.
 *
 * @example
 * ```ts
 * import { createBentoport } from '@bentoport/core';
 * import { tarFormat } from '@bentoport/format-tar';
 * import { sftpTransport } from '@bentoport/transport-sftp';
 *
 * const bentoport = createBentoport({ formats: [tarFormat()], transports: [sftpTransport()] });
 * await bentoport.exportBento('iris:latest', 'sftp://deploy@bentos.example.com/srv/bentos/');
 * ```
 */
export function sftpTransport(options: SftpTransportOptions = {}): Transport {
  const settings = resolveOptions(options);
  const endpointSettings: EndpointSettings = {
    netrc: settings.netrc,
    env: settings.env,
    home: settings.home,
    sshConfig: settings.sshConfig,
    given: settings.given,
    defaultUser: (() => {
      try {
        return userInfo().username;
      } catch {
        return process.env.USER ?? 'root';
      }
    })(),
  };
  let pool: SshPool | undefined;
  const connections = (): SshPool => (pool ??= new SshPool(settings.connection));

  /** Run `task` on a pooled connection, retried on a fresh one when the connection fails. */
  async function withConnection<T>(
    location: Location,
    operation: string,
    signal: AbortSignal | undefined,
    task: (connection: SftpConnection, remotePath: string) => Promise<T>,
  ): Promise<T> {
    throwIfAborted(signal, COMPONENT, operation, location.display);
    const endpoint = await resolveEndpoint(location, endpointSettings);
    const { result } = await connections().run(endpoint, operation, location.display, signal, (connection) =>
      task(connection, serverPath(location.path, connection.home)),
    );
    return result;
  }

  const stat = (location: Location, statOptions: { signal?: AbortSignal } = {}): Promise<TransportStat> =>
    withConnection(location, 'STAT', statOptions.signal, async (connection, remotePath) => {
      const stats = await calls.stat(connection, remotePath);
      if (calls.isDirectoryMode(stats.mode)) return { type: 'directory', size: 0, mtime: new Date(stats.mtime * 1000) };
      return { type: 'file', size: stats.size, mtime: new Date(stats.mtime * 1000), etag: `${stats.size.toString(16)}-${stats.mtime.toString(16)}` };
    });

  const listDirectory = (location: Location, listOptions: { signal?: AbortSignal } = {}): Promise<TransportListEntry[]> =>
    withConnection(location, 'LIST', listOptions.signal, async (connection, remotePath) => {
      const stats = await calls.stat(connection, remotePath);
      if (!calls.isDirectoryMode(stats.mode)) throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'LIST', location.display, 'a file, not a directory, is at this location');
      const entries = await calls.readdir(connection, remotePath);
      return entries
        .filter((entry) => entry.filename !== '.' && entry.filename !== '..')
        .map((entry): TransportListEntry =>
          calls.isDirectoryMode(entry.attrs.mode)
            ? { name: entry.filename, type: 'directory', size: 0 }
            : { name: entry.filename, type: 'file', size: entry.attrs.size },
        )
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    });

  const remove = (location: Location, deleteOptions: { signal?: AbortSignal } = {}): Promise<void> =>
    withConnection(location, 'DELETE', deleteOptions.signal, async (connection, remotePath) => {
      const stats = await calls.stat(connection, remotePath);
      if (calls.isDirectoryMode(stats.mode)) throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'DELETE', location.display, 'a directory is at this location');
      await calls.unlink(connection, remotePath);
    });

  return {
    apiVersion: 1,
    name: 'transport-sftp',
    protocols: ['sftp'],
    capabilities: { rangedReads: true, list: true, delete: true, atomicCommit: true, resumableWrites: false },
    stat,
    read: async (location, readOptions = {}) =>
      openSftpReader(connections(), await resolveEndpoint(location, endpointSettings), location, readOptions, settings.transfer),
    write: async (location, writeOptions = {}) =>
      openSftpWriter(connections(), await resolveEndpoint(location, endpointSettings), location, writeOptions, settings.transfer),
    list: listDirectory,
    delete: remove,
  };
}
