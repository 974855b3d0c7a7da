import type { ConnectionOptions } from 'node:tls';
import { backoffDelay, delayUnlessAborted, isBentoportError, type BentoportError } from '@bentoport/core';
import { Client, FTPError } from 'basic-ftp';
import type { FtpEndpoint } from './ftp-endpoint.js';
import { abortedFailure, fromFtpError, isTransient } from './ftp-errors.js';

/** A logged-in control connection and the directory it logged into. */
export interface FtpConnection {
  readonly client: Client;
  readonly endpoint: FtpEndpoint;
  /** The login directory (PWD right after login), for `/~/` paths. */
  readonly home: string;
}

export interface PoolSettings {
  timeout: number;
  retries: number;
  retryDelay: number;
  idleTimeout: number;
  maxIdle: number;
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
 * FTP allows one command at a time per control connection, so every operation takes its own
 * connection: idle ones are reused (unreferenced, closed after `idleTimeout`), new ones are
 * opened with retries and backoff when the network fails (never when the login is refused).
 */
export class ConnectionPool {
  readonly #idle = new Map<string, IdleEntry[]>();

  constructor(readonly settings: PoolSettings) {}

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

  /** Open a fresh connection, retrying transient failures with backoff. */
  async connect(endpoint: FtpEndpoint, operation: string, display: string, signal?: AbortSignal): Promise<FtpConnection> {
    let attempt = 0;
    for (;;) {
      if (signal?.aborted) throw abortedFailure(operation, display, signal);
      const client = new Client(this.settings.timeout);
      const onAbort = (): void => client.close();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await client.access({
          host: endpoint.hostname,
          port: endpoint.port,
          user: endpoint.user,
          password: endpoint.password,
          secure: endpoint.tls === 'none' ? false : endpoint.tls === 'implicit' ? 'implicit' : true,
          secureOptions: { ...this.settings.tls },
        });
        const home = await client.pwd();
        return { client, endpoint, home };
      } catch (error) {
        client.close();
        if (signal?.aborted) throw abortedFailure(operation, display, signal);
        const failure: BentoportError = fromFtpError(error, operation, display, endpoint.secrets);
        if (!isTransient(error) || attempt >= this.settings.retries) throw failure;
        attempt++;
        await delayUnlessAborted(backoffDelay(attempt, { baseMilliseconds: this.settings.retryDelay }), signal).catch(() => {
          throw abortedFailure(operation, display, signal!);
        });
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    }
  }

  /** Give a healthy connection back for reuse; a closed one is dropped. */
  release(connection: FtpConnection): void {
    const { client, endpoint } = connection;
    if (client.closed) return;
    const idle = this.#idle.get(endpoint.key) ?? [];
    if (idle.length >= this.settings.maxIdle) {
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
      }, this.settings.idleTimeout),
    };
    entry.timer.unref();
    idle.push(entry);
    this.#idle.set(endpoint.key, idle);
  }

  /**
   * Run `task` on a connection, and again on a fresh one (with backoff) when the network fails:
   * a reused connection may have been dropped by the server while it sat idle.
   */
  async run<T>(
    endpoint: FtpEndpoint,
    operation: string,
    display: string,
    signal: AbortSignal | undefined,
    task: (connection: FtpConnection) => Promise<T>,
  ): Promise<T> {
    let attempt = 0;
    for (;;) {
      const connection = await this.acquire(endpoint, operation, display, signal);
      const onAbort = (): void => connection.client.close();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const result = await task(connection);
        this.release(connection);
        return result;
      } catch (error) {
        if (signal?.aborted) {
          connection.client.close();
          throw abortedFailure(operation, display, signal);
        }
        // A reply error leaves the connection usable; anything else may have broken it.
        if (error instanceof FTPError || isBentoportError(error)) this.release(connection);
        else connection.client.close();
        if (!isTransient(error) || attempt >= this.settings.retries) throw fromFtpError(error, operation, display, endpoint.secrets);
        attempt++;
        await delayUnlessAborted(backoffDelay(attempt, { baseMilliseconds: this.settings.retryDelay }), signal).catch(() => {
          throw abortedFailure(operation, display, signal!);
        });
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    }
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
