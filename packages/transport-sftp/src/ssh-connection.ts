import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { abortedFailure, pluginFailure, throwIfAborted, timeoutError, withRetry } from '@bentoport/plugin-kit';
import type { BentoportError } from '@bentoport/spec';
import ssh2, { type AnyAuthMethod, type AuthenticationType, type ParsedKey } from 'ssh2';
import { checkKnownHostsFiles, fingerprintOf, knownHostsName, type HostKeyVerdict } from './host-keys.js';
import { RequestWatchdog } from './request-watchdog.js';
import type { SftpSession } from './sftp-calls.js';
import type { SftpEndpoint } from './sftp-endpoint.js';
import { COMPONENT, sftpFailure } from './sftp-status.js';

// ssh2 is CommonJS: Node's ESM loader gives its exports as the default import only.
const { Client, utils } = ssh2;
type Client = InstanceType<typeof Client>;

export interface ConnectionSettings {
  privateKey: Buffer | string | undefined;
  privateKeyPaths: string[];
  passphrase: string | undefined;
  agent: string | undefined;
  knownHosts: string[] | false;
  hostKeyFingerprints: string[];
  connectTimeoutMs: number;
  timeoutMs: number;
  keepaliveIntervalMs: number;
  retries: number;
  retryDelayMs: number;
  connectionIdleMs: number;
}

/** One SSH connection with its SFTP session, shared by the operations on one endpoint. */
export interface SftpConnection extends SftpSession {
  readonly client: Client;
  readonly endpoint: SftpEndpoint;
  /** The login directory, for `/~/` paths. */
  readonly home: string;
  readonly closed: boolean;
}

interface PoolEntry {
  connection: Promise<SftpConnection>;
  users: number;
  timer?: NodeJS.Timeout;
  dead: boolean;
}

export function defaultPrivateKeyPaths(home = homedir()): string[] {
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((name) => path.join(home, '.ssh', name));
}

export function defaultKnownHosts(home = homedir()): string[] {
  return [path.join(home, '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts'];
}

/** The private keys to offer, parsed; keys that need a passphrase we lack are left out. */
async function loadKeys(settings: ConnectionSettings, secrets: string[]): Promise<ParsedKey[]> {
  const sources: { data: Buffer | string; explicit: boolean; name: string }[] = [];
  if (settings.privateKey !== undefined) sources.push({ data: settings.privateKey, explicit: true, name: 'options.privateKey' });
  for (const file of settings.privateKeyPaths) {
    const data = await readFile(file).catch(() => undefined);
    if (data !== undefined) sources.push({ data, explicit: settings.privateKey === undefined && settings.privateKeyPaths.length === 1, name: file });
  }
  const keys: ParsedKey[] = [];
  for (const source of sources) {
    const parsed = utils.parseKey(source.data, settings.passphrase);
    const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
    if (key instanceof Error || key === undefined) {
      if (source.explicit) {
        const reason = `the private key cannot be read (${key instanceof Error ? key.message : 'empty'}); is the passphrase right?`;
        throw pluginFailure(COMPONENT, 'ERR_INVALID_OPTION', 'CONNECT', source.name, reason, { secrets });
      }
      continue;
    }
    keys.push(key);
  }
  return keys;
}

function hostKeyMessage(verdict: HostKeyVerdict, name: string, fingerprint: string, files: readonly string[]): string {
  const hint = `if you trust it, add it (ssh-keyscan${name.startsWith('[') ? ` -p ${name.slice(name.lastIndexOf(':') + 1)}` : ''} ${name.replace(/^\[|\]:\d+$/g, '')} >> ~/.ssh/known_hosts) or pass hostKeyFingerprint: '${fingerprint}'`;
  if (verdict.status === 'changed') {
    return `the host key of ${name} CHANGED: the server presents ${fingerprint}, but ${verdict.file}:${verdict.line} holds another key; this may be an attack; if the change is expected, fix that line`;
  }
  if (verdict.status === 'revoked') return `the host key ${fingerprint} of ${name} is revoked in ${verdict.file}:${verdict.line}`;
  return `the host key ${fingerprint} of ${name} is not known (looked in ${files.join(', ') || 'no known_hosts file'}); ${hint}`;
}

/**
 * SSH connections shared per endpoint: SFTP multiplexes requests, so one connection serves a
 * writer and reads at once. A connection is closed once no operation has used it for
 * `connectionIdleMs`, so a CLI run does not linger.
 */
export class SshPool {
  readonly #entries = new Map<string, PoolEntry>();

  constructor(readonly settings: ConnectionSettings) {}

  /** A connection for one operation (one connect attempt: `run` retries); call `release` when done. */
  async acquire(endpoint: SftpEndpoint, operation: string, display: string, signal?: AbortSignal): Promise<SftpConnection> {
    let entry = this.#entries.get(endpoint.key);
    if (entry !== undefined && !entry.dead) {
      const existing = entry;
      clearTimeout(existing.timer);
      existing.users++;
      try {
        const connection = await existing.connection;
        if (!connection.closed) return connection;
      } catch {
        // Fall through to a fresh connection.
      }
      existing.users--;
      existing.dead = true;
    }
    entry = { connection: this.connect(endpoint, operation, display, signal), users: 1, dead: false };
    const created = entry;
    this.#entries.set(endpoint.key, created);
    try {
      return await created.connection;
    } catch (error) {
      created.dead = true;
      if (this.#entries.get(endpoint.key) === created) this.#entries.delete(endpoint.key);
      throw error;
    }
  }

  release(connection: SftpConnection): void {
    const entry = this.#entries.get(connection.endpoint.key);
    if (entry === undefined) {
      connection.client.end();
      return;
    }
    void entry.connection.then((current) => {
      if (current !== connection) {
        connection.client.end();
        return;
      }
      entry.users--;
      if (entry.users > 0) return;
      entry.timer = setTimeout(() => {
        if (entry.users > 0) return;
        entry.dead = true;
        if (this.#entries.get(connection.endpoint.key) === entry) this.#entries.delete(connection.endpoint.key);
        connection.client.end();
      }, this.settings.connectionIdleMs);
    }, () => {});
  }

  /** Drop a broken connection so the next acquire opens a new one. */
  discard(connection: SftpConnection): void {
    const entry = this.#entries.get(connection.endpoint.key);
    if (entry !== undefined) {
      void entry.connection.then((current) => {
        if (current === connection) {
          entry.dead = true;
          this.#entries.delete(connection.endpoint.key);
        }
      }, () => {});
    }
    connection.client.end();
  }

  /**
   * Run `task` on a connection, again on a fresh one (with backoff) when the connection fails.
   * The connection is released afterwards unless `keep` (the caller then owns it) — on failure
   * it is always given back.
   */
  async run<T>(
    endpoint: SftpEndpoint,
    operation: string,
    display: string,
    signal: AbortSignal | undefined,
    task: (connection: SftpConnection) => Promise<T>,
    keep = false,
  ): Promise<{ connection: SftpConnection; result: T }> {
    const secrets = [endpoint.password ?? ''];
    const attempt = async (): Promise<{ connection: SftpConnection; result: T }> => {
      const connection = await this.acquire(endpoint, operation, display, signal);
      try {
        const result = await task(connection);
        if (!keep) this.release(connection);
        return { connection, result };
      } catch (error) {
        const failure = sftpFailure(error, operation, display, secrets, signal);
        if (failure.details.transient === true) this.discard(connection);
        else this.release(connection);
        throw failure;
      }
    };
    const { retries, retryDelayMs } = this.settings;
    return withRetry(attempt, { retries, retryDelayMs, signal }).catch((error: unknown) => {
      throw signal?.aborted ? abortedFailure(COMPONENT, operation, display, signal) : error;
    });
  }

  /** Open, verify, log in and start SFTP: one attempt, its failure coded (and marked transient when it is). */
  async connect(endpoint: SftpEndpoint, operation: string, display: string, signal?: AbortSignal): Promise<SftpConnection> {
    throwIfAborted(signal, COMPONENT, operation, display);
    // What the SSH configuration says for this host replaces the defaults the options left.
    const settings: ConnectionSettings = {
      ...this.settings,
      privateKeyPaths: endpoint.privateKeyPaths ?? this.settings.privateKeyPaths,
      agent: endpoint.useAgent ? this.settings.agent : undefined,
      knownHosts: endpoint.knownHosts ?? this.settings.knownHosts,
      connectTimeoutMs: endpoint.connectTimeoutMs ?? this.settings.connectTimeoutMs,
    };
    const secrets = [endpoint.password ?? '', settings.passphrase ?? ''];
    const keys = await loadKeys(settings, secrets);
    const name = knownHostsName(endpoint.hostname, endpoint.port);
    let hostKeyProblem: BentoportError | undefined;
    const client = new Client();

    async function verifyHost(key: Buffer): Promise<boolean> {
      const fingerprint = fingerprintOf(key);
      if (settings.hostKeyFingerprints.includes(fingerprint)) return true;
      const files = settings.knownHosts === false ? [] : settings.knownHosts;
      const verdict: HostKeyVerdict = files.length === 0 ? { status: 'unknown' } : await checkKnownHostsFiles(files, name, key);
      if (verdict.status === 'known') return true;
      hostKeyProblem = pluginFailure(COMPONENT, 'ERR_AUTH', operation, display, hostKeyMessage(verdict, name, fingerprint, files), {
        secrets,
        details: { fingerprint },
      });
      return false;
    }

    const methods: AnyAuthMethod[] = [];
    if (settings.agent !== undefined) methods.push({ type: 'agent', username: endpoint.user, agent: settings.agent });
    for (const key of keys) methods.push({ type: 'publickey', username: endpoint.user, key });
    if (endpoint.password !== undefined) methods.push({ type: 'password', username: endpoint.user, password: endpoint.password });

    return new Promise<SftpConnection>((resolve, reject) => {
      let settled = false;
      let closed = false;
      const watchdog = new RequestWatchdog(settings.timeoutMs, () => client.destroy());
      // ssh2's readyTimeout ends at login; this also bounds opening the SFTP session after it.
      const deadline = setTimeout(
        () => fail(timeoutError(`no SFTP session with ${name}`, settings.connectTimeoutMs, 'connectTimeoutMs')),
        settings.connectTimeoutMs,
      );
      const settle = (): void => {
        settled = true;
        clearTimeout(deadline);
        signal?.removeEventListener('abort', onAbort);
      };
      const fail = (error: unknown): void => {
        if (settled) return;
        settle();
        client.destroy();
        reject(hostKeyProblem ?? sftpFailure(error, operation, display, secrets, signal));
      };
      const onAbort = (): void => fail(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      client.on('error', fail);
      client.on('close', () => {
        closed = true;
        watchdog.dispose();
        fail(new Error('the connection closed during the handshake'));
      });
      // The socket's idle timer (`timeout` below): during the handshake a silent server fails
      // the connect at once; afterwards the request watchdog judges silences.
      client.on('timeout', () => fail(timeoutError('the server sent nothing during the SSH handshake', settings.timeoutMs, 'timeoutMs')));
      client.on('ready', () => {
        // Without TCP_NODELAY, Nagle holds back our small READ requests and window adjustments
        // until the server's delayed ACK (40 ms on Linux) releases them: 1 GiB took 6 to 23 s
        // to download instead of 1.5 s, varying from run to run.
        client.setNoDelay(true);
        client.sftp((error, sftp) => {
          if (error) {
            fail(error);
            return;
          }
          sftp.realpath('.', (realpathError, home) => {
            if (realpathError) {
              fail(realpathError);
              return;
            }
            settle();
            resolve({
              client,
              sftp,
              endpoint,
              home,
              track: (request) => watchdog.track(request),
              get closed() {
                return closed;
              },
            });
          });
        });
      });
      const authHandler = (_left: AuthenticationType[], _partial: boolean, next: (method: AnyAuthMethod | false) => void): void => {
        const method = methods.shift();
        next(method ?? false);
      };
      try {
        client.connect({
          host: endpoint.hostname,
          port: endpoint.port,
          username: endpoint.user,
          readyTimeout: settings.connectTimeoutMs,
          timeout: settings.timeoutMs,
          keepaliveInterval: settings.keepaliveIntervalMs,
          keepaliveCountMax: 3,
          hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
            verifyHost(key).then(verify, () => verify(false));
          },
          authHandler: authHandler as never,
        });
      } catch (error) {
        fail(error);
      }
    });
  }
}
