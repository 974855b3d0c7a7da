/**
 * The one error family of bentoport. Codes are stable API; messages may change.
 *
 * A message is one sentence naming the component, the operation and the target, with
 * credentials redacted: `[transport-s3] PUT s3://bucket/key.bento: 403 Forbidden`.
 */
export const ERROR_CODES = [
  /** The tag, item, file or object does not exist. */
  'ERR_NOT_FOUND',
  /** The item or version is already in the store (or at the destination, where that matters). */
  'ERR_ALREADY_EXISTS',
  /** A tag (name or version) breaks BentoML's rules. */
  'ERR_INVALID_TAG',
  /** An archive entry would escape the extraction root, or the archive breaks a safety limit. */
  'ERR_UNSAFE_ARCHIVE',
  /** The bytes are damaged: bad checksum, truncated stream, unreadable container. */
  'ERR_CORRUPT_ARCHIVE',
  /** The bytes match no known archive format, or the requested format is not installed. */
  'ERR_UNSUPPORTED_FORMAT',
  /** No installed transport handles the protocol. */
  'ERR_UNSUPPORTED_PROTOCOL',
  /** A target path/URL or its extra fields (protocol, user, passwd, params, subpath) are wrong. */
  'ERR_INVALID_TARGET',
  /** bento.yaml or model.yaml is missing, malformed or lacks a required field. */
  'ERR_INVALID_METADATA',
  /** A user-given option is wrong (not a programmer's type mistake: those are TypeErrors). */
  'ERR_INVALID_OPTION',
  /** The operation would break something else (e.g. deleting a model that a bento uses). */
  'ERR_IN_USE',
  /** Several items match a version prefix. */
  'ERR_AMBIGUOUS',
  /** Credentials were refused. */
  'ERR_AUTH',
  /** The operating system refused access to a local file or directory (EACCES, EPERM). */
  'ERR_PERMISSION',
  /** The caller's AbortSignal fired. */
  'ERR_ABORTED',
  /** A store lock could not be taken in time. */
  'ERR_LOCK_TIMEOUT',
  /** A plugin speaks an apiVersion this core does not know. */
  'ERR_PLUGIN_VERSION',
  /** Any other input/output failure of a transport or the file system. */
  'ERR_IO',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const MARKER = Symbol.for('bentoport.error');

export interface BentoportErrorOptions {
  cause?: unknown;
  /** Extra machine-readable facts (the entry path, the expected digest, …). */
  details?: Record<string, unknown>;
}

/** An error from bentoport, or from a plugin written against it. Test it with {@link isBentoportError}. */
export class BentoportError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: BentoportErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BentoportError';
    this.code = code;
    this.details = options.details ?? {};
    Object.defineProperty(this, MARKER, { value: true });
  }
}

/**
 * True for a BentoportError from any copy of core (a plugin may bundle another one), optionally
 * of the given code.
 */
export function isBentoportError(error: unknown, code?: ErrorCode): error is BentoportError {
  if (typeof error !== 'object' || error === null) return false;
  if (!(MARKER in error)) return false;
  return code === undefined || (error as unknown as BentoportError).code === code;
}

/**
 * Query parameters whose values are secrets: presigned URL signatures and tokens (S3, GCS, Azure
 * SAS, CloudFront) and the `header.*` parameters transports turn into request headers.
 */
const SECRET_QUERY_VALUE =
  /([?&](?:x-amz-signature|x-amz-security-token|x-amz-credential|x-goog-signature|x-goog-credential|signature|sig|key-pair-id|policy|token|access_token|password|passwd|secret|api_key|apikey|header\.[^=&#\s]*)=)[^&#\s]*/gi;

/**
 * Replace the password of every `scheme://user:password@` in a string with `***`, and the value
 * of every secret query parameter (`X-Amz-Signature=***`, `header.Authorization=***`).
 */
export function redact(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s/]*@/gi, '$1***@').replace(SECRET_QUERY_VALUE, '$1***');
}

/** Turn a Node system error into a coded error, keeping one that is already coded. */
export function toBentoportError(error: unknown, component: string, operation: string, target: string): BentoportError {
  if (isBentoportError(error)) return error;
  const systemCode = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason = error instanceof Error ? error.message : String(error);
  const code: ErrorCode =
    systemCode === 'ENOENT' ? 'ERR_NOT_FOUND'
    : systemCode === 'EEXIST' ? 'ERR_ALREADY_EXISTS'
    : systemCode === 'ABORT_ERR' || (error as Error | undefined)?.name === 'AbortError' ? 'ERR_ABORTED'
    : systemCode === 'ENOTDIR' ? 'ERR_NOT_FOUND'
    : systemCode === 'EISDIR' ? 'ERR_INVALID_TARGET'
    : systemCode === 'EACCES' || systemCode === 'EPERM' ? 'ERR_PERMISSION'
    : 'ERR_IO';
  return new BentoportError(code, redact(`[${component}] ${operation} ${target}: ${reason}`), { cause: error });
}

/** Throw ERR_ABORTED if the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) {
    throw new BentoportError('ERR_ABORTED', `${what} was aborted`, { cause: signal.reason });
  }
}

/**
 * `redact(text)`, and every given secret (a password, a passphrase, a token), raw or URL-encoded,
 * replaced with `***`. For plugins whose credentials also reach messages outside a URL.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    result = result.split(secret).join('***');
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) result = result.split(encoded).join('***');
  }
  return redact(result);
}

/**
 * The same error with the secrets scrubbed from its message and stack, so a `cause` attached to a
 * BentoportError cannot leak a password when it is logged. Returns its argument.
 */
export function redactErrorSecrets<T>(error: T, secrets: readonly string[]): T {
  if (error instanceof Error) {
    try {
      error.message = redactSecrets(error.message, secrets);
      if (error.stack !== undefined) error.stack = redactSecrets(error.stack, secrets);
    } catch {
      // Read-only (a DOMException): such errors never carry a password.
    }
  }
  return error;
}
