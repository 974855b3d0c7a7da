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
  /**
   * A signature is missing, malformed, made by a key the policy does not allow, does not verify,
   * or covers other content than the item's.
   */
  'ERR_SIGNATURE',
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
