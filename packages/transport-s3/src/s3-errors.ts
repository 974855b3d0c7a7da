import { STATUS_CODES } from 'node:http';
import { BentoportError, isBentoportError, redact, type ErrorCode, type Location } from '@bentoport/core';

export const COMPONENT = 'transport-s3';

/** `[transport-s3] <OP> <display>: <reason>`, with the original error as `cause`. */
export function s3Failure(code: ErrorCode, operation: string, location: Location, reason: string, cause?: unknown): BentoportError {
  return new BentoportError(code, redact(`[${COMPONENT}] ${operation} ${location.display}: ${reason}`), cause === undefined ? {} : { cause });
}

export function abortedFailure(operation: string, location: Location, signal: AbortSignal | undefined): BentoportError {
  return s3Failure('ERR_ABORTED', operation, location, 'aborted', signal?.reason);
}

export function throwIfSignalAborted(signal: AbortSignal | undefined, operation: string, location: Location): void {
  if (signal?.aborted) throw abortedFailure(operation, location, signal);
}

interface ServiceErrorShape {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $fault?: string;
  $retryable?: unknown;
}

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound', 'NoSuchBucket']);
const AUTH = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'CredentialsProviderError',
  'AllAccessDisabled',
  'AccountProblem',
]);
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET']);

function shapeOf(error: unknown): ServiceErrorShape {
  return typeof error === 'object' && error !== null ? (error as ServiceErrorShape) : {};
}

/** The HTTP status of an SDK error, when the server answered. */
export function statusOf(error: unknown): number | undefined {
  return shapeOf(error).$metadata?.httpStatusCode;
}

/** The S3 error code (`NoSuchKey`, `AccessDenied`, …) or the Node system code. */
export function errorNameOf(error: unknown): string {
  const shape = shapeOf(error);
  return shape.Code ?? (typeof shape.code === 'string' ? shape.code : undefined) ?? shape.name ?? 'Error';
}

/** Whether trying again may help: no answer at all (network), a 5xx, throttling, or a checksum the server saw damaged. */
export function isRetryable(error: unknown): boolean {
  if (isBentoportError(error)) return false;
  const name = errorNameOf(error);
  if (name === 'AbortError') return false;
  const status = statusOf(error);
  if (status === undefined) return true;
  if (status >= 500 || status === 429 || status === 408) return true;
  // A body the server received damaged (BadDigest) was damaged in transit: sending it again helps.
  return ['RequestTimeout', 'SlowDown', 'BadDigest', 'XAmzContentSHA256Mismatch'].includes(name);
}

/**
 * Map an SDK or network error to the error family: 404/NoSuchKey/NoSuchBucket → ERR_NOT_FOUND,
 * 401/403 and refused or missing credentials → ERR_AUTH, a fired signal → ERR_ABORTED, anything
 * else → ERR_IO. The message reads `[transport-s3] PUT s3://bucket/key: 403 Forbidden (AccessDenied: …)`.
 */
export function fromS3Error(error: unknown, operation: string, location: Location, signal?: AbortSignal): BentoportError {
  if (isBentoportError(error)) return error;
  if (signal?.aborted) return abortedFailure(operation, location, signal);
  const shape = shapeOf(error);
  const name = errorNameOf(error);
  const status = statusOf(error);
  const detail = shape.message && shape.message !== name && shape.message !== 'UnknownError' ? `${name}: ${shape.message}` : name;
  const reason = status === undefined ? detail : `${status} ${STATUS_CODES[status] ?? ''}`.trimEnd() + (detail === String(status) ? '' : ` (${detail})`);
  let code: ErrorCode = 'ERR_IO';
  if (name === 'AbortError' || shape.name === 'AbortError') code = 'ERR_ABORTED';
  else if (NOT_FOUND.has(name) || (status === 404 && name !== 'NoSuchUpload')) code = 'ERR_NOT_FOUND';
  else if (AUTH.has(name) || status === 401 || status === 403) code = 'ERR_AUTH';
  else if (NETWORK.has(name)) code = 'ERR_IO';
  return s3Failure(code, operation, location, reason, error);
}
