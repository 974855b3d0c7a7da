import { BentoportError, type ErrorCode } from '@bentoport/spec';
import { redactErrorSecrets, redactSecrets } from './redaction.js';

/** Options of {@link pluginFailure}. */
export interface PluginFailureOptions {
  /** The original error; scrubbed of `secrets` and kept as `cause`. @default undefined (no cause) */
  cause?: unknown;
  /** Known secret values (a password, a token) to hide as whole tokens, beside URL passwords. @default [] */
  secrets?: readonly string[];
  /** Marks the failure worth a retry (read by `isTransientNetworkError`). @default false */
  transient?: boolean;
  /** Extra machine-readable facts. @default {} */
  details?: Record<string, unknown>;
}

/**
 * The error a plugin throws: `[component] OPERATION target: reason`, one line, credentials
 * redacted, the original error as `cause`.
 * @example pluginFailure('transport-s3', 'ERR_AUTH', 'PUT', 's3://bucket/key.bento', '403 Forbidden')
 */
export function pluginFailure(
  component: string,
  code: ErrorCode,
  operation: string,
  target: string,
  reason: string,
  options: PluginFailureOptions = {},
): BentoportError {
  const secrets = options.secrets ?? [];
  const oneLine = reason.replace(/\s*\n\s*/g, ' ').trim();
  const details = { ...options.details, ...(options.transient ? { transient: true } : {}) };
  return new BentoportError(code, redactSecrets(`[${component}] ${operation} ${target}: ${oneLine}`, secrets), {
    ...(options.cause === undefined ? {} : { cause: redactErrorSecrets(options.cause, secrets) }),
    details,
  });
}

/**
 * The error code for an HTTP status: 401/403 `ERR_AUTH`, 404/410 `ERR_NOT_FOUND`, 409/412
 * `ERR_ALREADY_EXISTS`, anything else `ERR_IO`.
 */
export function errorCodeForHttpStatus(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'ERR_AUTH';
  if (status === 404 || status === 410) return 'ERR_NOT_FOUND';
  if (status === 409 || status === 412) return 'ERR_ALREADY_EXISTS';
  return 'ERR_IO';
}
