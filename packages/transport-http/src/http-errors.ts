import { BentoportError, isBentoportError, type ErrorCode } from '@bentoport/core';

export const COMPONENT = 'transport-http';

/** `[transport-http] <METHOD> <display>: <reason>`, with the original error as `cause`. */
export function httpFailure(code: ErrorCode, operation: string, display: string, reason: string, cause?: unknown): BentoportError {
  return new BentoportError(code, `[${COMPONENT}] ${operation} ${display}: ${reason}`, cause === undefined ? {} : { cause });
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  416: 'Range Not Satisfiable',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  507: 'Insufficient Storage',
};

/** `404 Not Found`. */
export function statusLine(status: number): string {
  const text = STATUS_TEXT[status];
  return text === undefined ? String(status) : `${status} ${text}`;
}

/** The error code of an HTTP status that is not a success: 401/403 refused credentials, 404/410 missing. */
export function codeOfStatus(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'ERR_AUTH';
  if (status === 404 || status === 410) return 'ERR_NOT_FOUND';
  if (status === 412) return 'ERR_CORRUPT_ARCHIVE';
  return 'ERR_IO';
}

/** A coded error for an HTTP status answered to `operation`. */
export function statusFailure(status: number, operation: string, display: string, detail?: string): BentoportError {
  const hint =
    status === 401 || status === 403 ? ' (credentials refused or missing: check the URL, params header.Authorization or ~/.netrc)'
    : status === 412 ? ' (the object changed since it was first read)'
    : '';
  return httpFailure(codeOfStatus(status), operation, display, `${statusLine(status)}${detail === undefined ? '' : `, ${detail}`}${hint}`);
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
]);

function errorCodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return cause !== undefined && cause !== error ? errorCodeOf(cause) : undefined;
}

/** True for a certificate the client refused: retrying cannot help. */
export function isTlsVerificationError(error: unknown): boolean {
  const code = errorCodeOf(error);
  return code !== undefined && TLS_CODES.has(code);
}

/** True for a failure worth another attempt: the connection broke, timed out or was refused. */
export function isTransientNetworkError(error: unknown): boolean {
  if (isBentoportError(error) || isTlsVerificationError(error)) return false;
  const code = errorCodeOf(error);
  return (
    code === undefined ||
    code.startsWith('UND_ERR_') && code !== 'UND_ERR_ABORTED' && code !== 'UND_ERR_INVALID_ARG' && code !== 'UND_ERR_NOT_SUPPORTED' ||
    ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE'].includes(code)
  );
}

/** Turn a network or client error into a coded error, keeping one that is already coded. */
export function networkFailure(error: unknown, operation: string, display: string, signal?: AbortSignal): BentoportError {
  if (isBentoportError(error)) return error;
  if (signal?.aborted) return httpFailure('ERR_ABORTED', operation, display, 'aborted', signal.reason);
  const name = (error as Error | undefined)?.name;
  if (name === 'AbortError' || errorCodeOf(error) === 'UND_ERR_ABORTED') return httpFailure('ERR_ABORTED', operation, display, 'aborted', error);
  const message = error instanceof Error ? error.message : String(error);
  if (isTlsVerificationError(error)) {
    return httpFailure('ERR_IO', operation, display, `TLS certificate not trusted (${errorCodeOf(error)}: ${message}); pass the issuing CA with the ca option`, error);
  }
  const code = errorCodeOf(error);
  return httpFailure('ERR_IO', operation, display, code === undefined || message.includes(code) ? message : `${code}: ${message}`, error);
}

export function abortedFailure(operation: string, display: string, signal: AbortSignal): BentoportError {
  return httpFailure('ERR_ABORTED', operation, display, 'aborted', signal.reason);
}

export function throwIfSignalAborted(signal: AbortSignal | undefined, operation: string, display: string): void {
  if (signal?.aborted) throw abortedFailure(operation, display, signal);
}
