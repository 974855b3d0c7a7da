import type { SecureContextOptions } from 'node:tls';
import { optionChecks } from './option-validation.js';
import { DEFAULT_RETRY_DELAY_MS } from './retry-delay.js';

/**
 * The options every network plugin (transport or registry) takes, under one set of names.
 * A plugin spreads this into its own options type and resolves it with
 * {@link resolveNetworkOptions}, so `timeoutMs` means the same in every package.
 */
export interface NetworkOptions {
  /**
   * Milliseconds to open a connection (TCP, TLS, an SSH handshake, an FTP login) before the
   * attempt fails as transient and is retried.
   * @default 15000
   */
  connectTimeoutMs?: number;
  /**
   * Milliseconds without progress (no reply, no byte in either direction) before a request or a
   * transfer is given up as transient and retried. A server that accepts and never answers hits
   * this, so nothing waits forever.
   * @default 30000
   */
  timeoutMs?: number;
  /**
   * How many times a transient failure (a dropped connection, a timeout, a busy or failing
   * server) is retried after the first attempt, with exponential backoff and jitter. 0 turns
   * retries off.
   * @default 3
   */
  retries?: number;
  /**
   * Milliseconds before the first retry; each next one doubles, with full jitter, up to 8 s.
   * @default 1000 (the waits of the default 3 retries add up to 3.5-7 s: a server restart is ridden out)
   */
  retryDelayMs?: number;
  /**
   * Whether a TLS server's certificate must verify (chain and host name). Turning it off lets
   * anyone on the path read and change the transfer; prefer `ca`.
   * @default true
   */
  rejectUnauthorized?: boolean;
  /**
   * Extra certificate authorities (PEM) to trust for TLS, beside the system's, e.g. a company CA
   * or a test server's self-signed certificate.
   * @default undefined (the system's trusted CAs only)
   */
  ca?: SecureContextOptions['ca'];
  /**
   * The environment that proxies (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`),
   * `NETRC` and the like are read from.
   * @default process.env
   */
  env?: NodeJS.ProcessEnv;
}

/** {@link NetworkOptions} with every default applied and every value checked. */
export interface ResolvedNetworkOptions {
  connectTimeoutMs: number;
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
  rejectUnauthorized: boolean;
  ca: SecureContextOptions['ca'] | undefined;
  env: NodeJS.ProcessEnv;
}

/** The defaults of {@link NetworkOptions}, in one place. */
export const NETWORK_DEFAULTS = {
  connectTimeoutMs: 15_000,
  timeoutMs: 30_000,
  retries: 3,
  retryDelayMs: DEFAULT_RETRY_DELAY_MS,
  rejectUnauthorized: true,
} as const;

/**
 * The network options that plugins took under other names before they shared
 * {@link NetworkOptions}, with what replaces each. Refused rather than ignored, so an old
 * configuration fails loudly instead of losing its setting.
 */
export const RENAMED_NETWORK_OPTIONS: Readonly<Record<string, string>> = {
  insecure: 'rejectUnauthorized: false',
  attempts: 'retries (counted after the first try: attempts: 5 is retries: 4)',
  requestTimeoutMs: 'timeoutMs',
  timeout: 'timeoutMs (no progress) or connectTimeoutMs (connecting)',
  socketTimeout: 'timeoutMs',
  connectTimeout: 'connectTimeoutMs',
  connectionTimeout: 'connectTimeoutMs',
  retryDelay: 'retryDelayMs',
  retryDelayMilliseconds: 'retryDelayMs',
};

/**
 * Apply the defaults of {@link NetworkOptions} and check each value: a wrong type is a
 * `TypeError`, an out-of-range value an `ERR_INVALID_OPTION` naming `component` and the option,
 * and a name from before the rename ({@link RENAMED_NETWORK_OPTIONS}) an `ERR_INVALID_OPTION`
 * naming its replacement.
 */
export function resolveNetworkOptions(component: string, options: NetworkOptions = {}): ResolvedNetworkOptions {
  const check = optionChecks(component);
  check.object(options);
  check.renamed(options, RENAMED_NETWORK_OPTIONS);
  if (options.env !== undefined && (typeof options.env !== 'object' || options.env === null)) {
    throw new TypeError(`${component}: options.env must be an object`);
  }
  return {
    connectTimeoutMs: check.integer('connectTimeoutMs', options.connectTimeoutMs, NETWORK_DEFAULTS.connectTimeoutMs, 1),
    timeoutMs: check.integer('timeoutMs', options.timeoutMs, NETWORK_DEFAULTS.timeoutMs, 1),
    retries: check.integer('retries', options.retries, NETWORK_DEFAULTS.retries),
    retryDelayMs: check.integer('retryDelayMs', options.retryDelayMs, NETWORK_DEFAULTS.retryDelayMs),
    rejectUnauthorized: check.boolean('rejectUnauthorized', options.rejectUnauthorized, NETWORK_DEFAULTS.rejectUnauthorized),
    ca: options.ca,
    env: options.env ?? process.env,
  };
}
