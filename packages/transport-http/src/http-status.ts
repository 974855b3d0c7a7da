import { STATUS_CODES } from 'node:http';
import { errorCodeForHttpStatus, pluginFailure } from '@bentoport/plugin-kit';
import type { BentoportError, ErrorCode } from '@bentoport/spec';

/** The name this transport gives itself in messages. */
export const COMPONENT = 'transport-http';

/** `404 Not Found`. */
export function statusLine(status: number): string {
  const text = STATUS_CODES[status];
  return text === undefined ? String(status) : `${status} ${text}`;
}

/**
 * The error code of a status that is not a success, as the kit maps them, but for two that mean
 * something else here: 412 answers a read pinned to a version that has changed since, and 409 is
 * WebDAV's "a parent collection is missing", not an existing object.
 */
function codeOfStatus(status: number): ErrorCode {
  if (status === 412) return 'ERR_CORRUPT_ARCHIVE';
  if (status === 409) return 'ERR_IO';
  return errorCodeForHttpStatus(status);
}

/** A coded error for an HTTP status answered to `operation`, with a hint where one helps. */
export function statusFailure(status: number, operation: string, display: string, detail?: string): BentoportError {
  const hint =
    status === 401 || status === 403 ? ' (credentials refused or missing: check the URL, params header.Authorization or ~/.netrc)'
    : status === 412 ? ' (the object changed since it was first read)'
    : '';
  return pluginFailure(COMPONENT, codeOfStatus(status), operation, display, `${statusLine(status)}${detail === undefined ? '' : `, ${detail}`}${hint}`);
}
