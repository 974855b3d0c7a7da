import type { ConnectionOptions } from 'node:tls';
import { abortedFailure, throwIfAborted, timeoutError, withRetry } from '@bentoport/plugin-kit';
import { isBentoportError } from '@bentoport/spec';
import { Client, FTPError } from 'basic-ftp';
import type { FtpEndpoint } from './ftp-endpoint.js';
import { COMPONENT, ftpFailure } from './ftp-replies.js';

/** A logged-in control connection and the directory it logged into. */
export interface FtpConnection {
  readonly client: Client;
  readonly endpoint: FtpEndpoint;
  /** The login directory (PWD right after login), for `/~/` paths. */
  readonly home: string;
}

export interface PoolSettings {
  connectTimeoutMs: number;
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
  connectionIdleMs: number;
  maxIdleConnections: number;
  tls: ConnectionOptions;
}

interface IdleEntry {
  connection: FtpConnection;
  timer: NodeJS.Timeout;
}

/** Sockets of an idle connection must not keep the process alive. */
function setReferenced(client: Client, referenced: boolean): void {
  const socket = client.ftp.socket as { ref?: () => void; unref?: () => void };
  if (referenced) socket.ref?.();
  else socket.unref?.();
}

/**
 * Log in within `connectTimeoutMs`. basic-ftp's own timeout is an idle one (`timeoutMs`, no byte
 * for that long); this bounds the whole connect, TLS handshake and login, so a server that
 * trickles its banner cannot hold a connect open either.
 */
async function logIn(client: Client, endpoint: FtpEndpoint, settings: PoolSettings): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(timeoutError(`no login to ${endpoint.hostname}:${endpoint.port}`, settings.connectTimeoutMs, 'connectTimeoutMs'));
      client.close();
    }, settings.connectTimeoutMs);
  });
  const login = (async () => {
    await client.access({
      host: endpoint.hostname,
      port: endpoint.port,
      user: endpoint.user,
      password: endpoint.password,
      secure: endpoint.tls === 'none' ? false : endpoint.tls === 'implicit' ? 'implicit' : true,
      secureOptions: { ...settings.tls },
    });
    return client.pwd();
  })();
  try {
    return await Promise.race([login, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * FTP allows one command at a time per control connection, so every operation takes its own
 * connection: idle ones are reused (unreferenced, closed after `connectionIdleMs`), new ones
 * opened on demand. `run` retries an operation with backoff when the network or a transient
 * reply fails it (never when the login is refused).
 */
export class ConnectionPool {
  readonly #idle = new Map<string, IdleEntry[]>();

  constructor(readonly settings: PoolSettings) {}

  /** An idle connection to the endpoint, else a new one (one attempt: the caller retries). */
  async acquire(endpoint: FtpEndpoint, operation: string, display: string, signal?: AbortSignal): Promise<FtpConnection> {
    const idle = this.#idle.get(endpoint.key);
    while (idle !== undefined && idle.length > 0) {
      const entry = idle.pop()!;
      clearTimeout(entry.timer);
      if (!entry.connection.client.closed) {
        setReferenced(entry.connection.client, true);
        return entry.connection;
      }
    }
    return this.connect(endpoint, operation, display, signal);
  }

  /** Open and log in a fresh connection; one attempt, its failure coded (and marked transient when it is). */
  async connect(endpoint: FtpEndpoint, operation: string, display: string, signal?: AbortSignal): Promise<FtpConnection> {
    throwIfAborted(signal, COMPONENT, operation, display);
    const client = new Client(this.settings.timeoutMs);
    const onAbort = (): void => client.close();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const home = await logIn(client, endpoint, this.settings);
      return { client, endpoint, home };
    } catch (error) {
      client.close();
      throw ftpFailure(error, operation, display, endpoint.secrets, signal);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Give a healthy connection back for reuse; a closed one is dropped. */
  release(connection: FtpConnection): void {
    const { client, endpoint } = connection;
    if (client.closed) return;
    const idle = this.#idle.get(endpoint.key) ?? [];
    if (idle.length >= this.settings.maxIdleConnections) {
      client.close();
      return;
    }
    setReferenced(client, false);
    const entry: IdleEntry = {
      connection,
      timer: setTimeout(() => {
        const index = idle.indexOf(entry);
        if (index !== -1) idle.splice(index, 1);
        client.close();
      }, this.settings.connectionIdleMs),
    };
    entry.timer.unref();
    idle.push(entry);
    this.#idle.set(endpoint.key, idle);
  }

  /**
   * Run `task` on a connection, and again on a fresh one (with backoff) when the network fails
   * or the server answers a transient reply: a reused connection may have been dropped by the
   * server while it sat idle.
   */
  run<T>(endpoint: FtpEndpoint, operation: string, display: string, signal: AbortSignal | undefined, task: (connection: FtpConnection) => Promise<T>): Promise<T> {
    const attempt = async (): Promise<T> => {
      const connection = await this.acquire(endpoint, operation, display, signal);
      const onAbort = (): void => connection.client.close();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const result = await task(connection);
        this.release(connection);
        return result;
      } catch (error) {
        // A reply error leaves the connection usable; anything else may have broken it.
        if (!signal?.aborted && (error instanceof FTPError || isBentoportError(error))) this.release(connection);
        else connection.client.close();
        throw ftpFailure(error, operation, display, endpoint.secrets, signal);
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    };
    const { retries, retryDelayMs } = this.settings;
    return withRetry(attempt, { retries, retryDelayMs, signal }).catch((error: unknown) => {
      throw signal?.aborted ? abortedFailure(COMPONENT, operation, display, signal) : error;
    });
  }

  /** Close every idle connection. */
  closeIdle(): void {
    for (const idle of this.#idle.values()) {
      for (const entry of idle.splice(0)) {
        clearTimeout(entry.timer);
        entry.connection.client.close();
      }
    }
  }
}
