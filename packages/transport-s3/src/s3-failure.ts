import { STATUS_CODES } from 'node:http';
import { isTlsVerificationError, isTransientNetworkError, networkFailure } from '@bentoport/plugin-kit';
import { isBentoportError, type BentoportError, type ErrorCode } from '@bentoport/spec';

/** The name this transport gives itself in messages. */
export const COMPONENT = 'transport-s3';

/** What the AWS SDK puts on a service or client error. */
interface ServiceErrorShape {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string; extendedRequestId?: string };
}

/** Where {@link noteProxy} keeps the proxy a failed request went through. */
const PROXY = Symbol('bentoport.s3.proxy');

/** Remember on `error` the proxy its request went through (see `s3-client.ts`); returns `error`. */
export function noteProxy(error: unknown, proxy: string): unknown {
  if (typeof error === 'object' && error !== null && !(PROXY in error)) Object.defineProperty(error, PROXY, { value: proxy });
  return error;
}

/**
 * The proxy (its origin, no credentials) whose own answer failed the request: an HTTP answer
 * through a proxy with neither the request id S3 (and S3-compatible stores) put on their answers
 * nor an S3 error code in its body. A 404 stays S3's: a `HEAD` of a missing key has no body to tell.
 */
function refusingProxy(error: unknown): string | undefined {
  const proxy = typeof error === 'object' && error !== null ? (error as { [PROXY]?: string })[PROXY] : undefined;
  const metadata = shapeOf(error).$metadata;
  if (proxy === undefined || metadata?.httpStatusCode === undefined || metadata.httpStatusCode === 404) return undefined;
  if (metadata.requestId !== undefined || metadata.extendedRequestId !== undefined || shapeOf(error).Code !== undefined) return undefined;
  try {
    return new URL(proxy).origin;
  } catch {
    return 'from the *_PROXY environment variables';
  }
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
/** Answers that trying again can fix: throttling, a timeout on S3's side, a body damaged in transit. */
const RETRYABLE_NAMES = new Set(['RequestTimeout', 'SlowDown', 'BadDigest', 'XAmzContentSHA256Mismatch']);

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

/**
 * Whether trying again may help: a failure the kit calls transient (a reset, a refused or
 * timed-out connection), the SDK's own connect and inactivity timeouts, a 5xx, 408 or 429, or one
 * of S3's retryable answers. Refused credentials, an untrusted certificate and any other failure
 * without an HTTP answer (a host name that does not resolve) are not retried.
 */
export function isRetryableS3Error(error: unknown): boolean {
  if (isBentoportError(error)) return error.details.transient === true;
  const name = errorNameOf(error);
  if (name === 'AbortError' || AUTH.has(name) || isTlsVerificationError(error)) return false;
  if (isTransientNetworkError(error)) return true;
  const status = statusOf(error);
  // No HTTP answer: the kit's classification above decides (ENOTFOUND is deliberately not
  // transient), except for the SDK's timeouts, which carry no system code, only their name.
  if (status === undefined) return shapeOf(error).name === 'TimeoutError';
  return status >= 500 || status === 429 || status === 408 || RETRYABLE_NAMES.has(name);
}

function codeOf(error: unknown): ErrorCode | undefined {
  const name = errorNameOf(error);
  const status = statusOf(error);
  if (NOT_FOUND.has(name) || (status === 404 && name !== 'NoSuchUpload')) return 'ERR_NOT_FOUND';
  if (AUTH.has(name) || status === 401 || status === 403) return 'ERR_AUTH';
  return undefined;
}

/** `403 Forbidden (AccessDenied: Access Denied)`; the SDK's socket timeouts in the option's terms. */
function reasonOf(error: unknown): string {
  const shape = shapeOf(error);
  const name = errorNameOf(error);
  const idle = /timed out after (\d+) ms of inactivity/.exec(shape.message ?? '');
  if (name === 'TimeoutError' && idle !== null) return `no byte from the server within ${idle[1]} ms (timeoutMs)`;
  const connect = /did not establish a connection with the server within the configured timeout of (\d+) ms/.exec(shape.message ?? '');
  if (name === 'TimeoutError' && connect !== null) return `no connection within ${connect[1]} ms (connectTimeoutMs)`;
  const status = statusOf(error);
  const proxy = status === undefined ? undefined : refusingProxy(error);
  if (proxy !== undefined) return `the proxy ${proxy} refused the request with ${status} ${STATUS_CODES[status as number] ?? ''}`.trimEnd() + '; check HTTPS_PROXY/HTTP_PROXY/NO_PROXY';
  const detail = shape.message && shape.message !== name && shape.message !== 'UnknownError' ? `${name}: ${shape.message}` : name;
  if (status === undefined) return detail;
  return `${status} ${STATUS_CODES[status] ?? ''}`.trimEnd() + (detail === String(status) ? '' : ` (${detail})`);
}

/**
 * Anything the SDK or the network threw, as the transport's one-line coded error: NoSuchKey,
 * NoSuchBucket and 404 are ERR_NOT_FOUND, refused or missing credentials and 401/403 ERR_AUTH,
 * a fired signal ERR_ABORTED, the rest ERR_IO (marked transient when retrying may help).
 */
export function s3Failure(error: unknown, operation: string, display: string, signal?: AbortSignal): BentoportError {
  return networkFailure(COMPONENT, operation, display, error, { signal, code: codeOf, reason: reasonOf, isRetryable: isRetryableS3Error });
}
