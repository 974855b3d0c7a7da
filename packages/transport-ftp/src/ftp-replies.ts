import { isTlsVerificationError, isTransientNetworkError, networkFailure } from '@bentoport/plugin-kit';
import { isBentoportError, type BentoportError, type ErrorCode } from '@bentoport/spec';
import { FTPError } from 'basic-ftp';

/** The name this transport gives itself in messages. */
export const COMPONENT = 'transport-ftp';

/** FTP replies that mean "try again": service closing, cannot open or lost the data connection, local error, busy. */
const TRANSIENT_REPLIES = new Set([421, 425, 426, 450, 451]);

/**
 * Whether another attempt may succeed: a transient reply, a network failure the kit knows, or
 * basic-ftp's own wording for a dropped or silent connection (its timeouts carry no code).
 */
export function isTransientFtpError(error: unknown): boolean {
  if (isBentoportError(error)) return error.details.transient === true;
  if (error instanceof FTPError) return TRANSIENT_REPLIES.has(error.code);
  if (isTlsVerificationError(error)) return false;
  if (isTransientNetworkError(error)) return true;
  const message = error instanceof Error ? error.message : String(error);
  return /timeout|closed|socket hang up|not connected/i.test(message);
}

/** What an FTP reply means in the error family's terms; undefined for anything else. */
function replyCode(error: unknown, operation: string): ErrorCode | undefined {
  if (!(error instanceof FTPError)) return undefined;
  if (error.code === 530 || error.code === 332) return 'ERR_AUTH';
  if (/permission denied|access denied|not allowed/i.test(error.message)) return 'ERR_PERMISSION';
  // vsftpd says "550 Failed to open file." (or "Could not get file size.") for a missing file.
  if (error.code === 550 && operation !== 'STOR' && operation !== 'MKD') return 'ERR_NOT_FOUND';
  if (error.code === 553) return 'ERR_PERMISSION';
  return undefined;
}

/** basic-ftp's timeout (`Timeout (control socket)`), said in the option's terms; undefined for anything else. */
function timeoutReason(error: unknown): string | undefined {
  const match = /^Timeout \((control|data) socket\)$/.exec(error instanceof Error ? error.message : '');
  return match === null ? undefined : `the server sent nothing on the ${match[1]} connection within timeoutMs`;
}

/** Anything basic-ftp or the network threw, as the transport's coded, scrubbed one-line error. */
export function ftpFailure(error: unknown, operation: string, display: string, secrets: readonly string[], signal?: AbortSignal): BentoportError {
  return networkFailure(COMPONENT, operation, display, error, {
    secrets,
    signal,
    code: (cause) => replyCode(cause, operation),
    reason: timeoutReason,
    isRetryable: isTransientFtpError,
  });
}
