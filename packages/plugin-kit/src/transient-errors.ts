import { isBentoportError } from '@bentoport/spec';

/**
 * System and client error codes that mean "the network or the server hiccuped; the same request
 * may succeed": resets, refusals while a server restarts, timeouts, DNS that could not answer
 * yet, and undici's socket and timeout errors. A name that does not resolve (`ENOTFOUND`) is not
 * here: retrying a typo only makes the user wait.
 */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** HTTP statuses worth another attempt: timeout, too many requests, and the 5xx of a struggling server. */
const TRANSIENT_HTTP_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/** TLS verification failures: the certificate is not trusted (an `ERR_AUTH`, never retried). */
const TLS_VERIFICATION_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The string `code` of an error or of the errors in its `cause` chain (first found, 5 deep). */
export function systemErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Whether trying the same request again may succeed: a BentoportError marked
 * `details.transient`, a transient system or undici code anywhere in the cause chain, or an
 * error carrying a transient HTTP `status` / `statusCode`. The one classification every plugin's
 * retry loop uses.
 */
export function isTransientNetworkError(error: unknown): boolean {
  if (isBentoportError(error)) return error.details.transient === true;
  const code = systemErrorCode(error);
  if (code !== undefined && TRANSIENT_CODES.has(code)) return true;
  const status = (error as { status?: unknown; statusCode?: unknown } | undefined)?.status ?? (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' && isTransientHttpStatus(status);
}

/** Whether an HTTP status is worth a retry (408, 429, 500, 502, 503, 504). */
export function isTransientHttpStatus(status: number): boolean {
  return TRANSIENT_HTTP_STATUSES.has(status);
}

/** Whether the error is a TLS certificate that did not verify. */
export function isTlsVerificationError(error: unknown): boolean {
  const code = systemErrorCode(error);
  return code !== undefined && TLS_VERIFICATION_CODES.has(code);
}
