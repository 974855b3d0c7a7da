import { BentoportError, isBentoportError, redactErrorSecrets, redactSecrets, type ErrorCode } from '@bentoport/core';
import { FTPError } from 'basic-ftp';

export const COMPONENT = 'transport-ftp';

/** `[transport-ftp] <OPERATION> <display>: <reason>`, scrubbed, with the original error as `cause`. */
export function ftpFailure(
  code: ErrorCode,
  operation: string,
  display: string,
  reason: string,
  secrets: readonly string[] = [],
  cause?: unknown,
): BentoportError {
  return new BentoportError(code, redactSecrets(`[${COMPONENT}] ${operation} ${display}: ${reason}`, secrets), cause === undefined ? {} : { cause: redactErrorSecrets(cause, secrets) });
}

const TLS_VERIFY_CODES = new Set([
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

const TRANSIENT_SYSTEM_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** FTP replies that mean "try again": service closing, cannot open or lost the data connection, local error, busy. */
const TRANSIENT_REPLIES = new Set([421, 425, 426, 450, 451]);

function systemCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Whether an error is worth a reconnect and another attempt (a network blip, a timeout, a 4xx reply). */
export function isTransient(error: unknown): boolean {
  if (isBentoportError(error)) return error.details.transient === true;
  if (error instanceof FTPError) return TRANSIENT_REPLIES.has(error.code);
  const code = systemCode(error);
  if (code !== undefined && TRANSIENT_SYSTEM_CODES.has(code)) return true;
  const message = error instanceof Error ? error.message : String(error);
  // basic-ftp's own wording for a dropped or silent connection.
  return /timeout|closed|socket hang up|ECONNRESET|EPIPE|not connected|Client is closed/i.test(message);
}

/** What an FTP reply or system error means, in the error family's terms. */
export function codeFor(error: unknown, operation: string): ErrorCode {
  if (isBentoportError(error)) return error.code;
  const code = systemCode(error);
  if (code !== undefined && TLS_VERIFY_CODES.has(code)) return 'ERR_AUTH';
  if (code === 'ABORT_ERR' || (error as Error | undefined)?.name === 'AbortError') return 'ERR_ABORTED';
  if (error instanceof FTPError) {
    if (error.code === 530 || error.code === 332) return 'ERR_AUTH';
    const message = error.message;
    if (/permission denied|access denied|not allowed/i.test(message)) return 'ERR_PERMISSION';
    // vsftpd says "550 Failed to open file." (or "Could not get file size.") for a missing file.
    if (error.code === 550 && operation !== 'STOR' && operation !== 'MKD') return 'ERR_NOT_FOUND';
    if (error.code === 553) return 'ERR_PERMISSION';
  }
  return 'ERR_IO';
}

function reasonOf(error: unknown): string {
  const code = systemCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code !== undefined && TLS_VERIFY_CODES.has(code)) {
    return `the server's TLS certificate was not verified (${message}); trust its CA with the \`ca\` option`;
  }
  return message.trim();
}

/** Turn anything thrown by basic-ftp or the network into a coded, scrubbed BentoportError. */
export function fromFtpError(error: unknown, operation: string, display: string, secrets: readonly string[]): BentoportError {
  if (isBentoportError(error)) return error;
  const failure = ftpFailure(codeFor(error, operation), operation, display, reasonOf(error), secrets, error);
  if (isTransient(error)) failure.details.transient = true;
  return failure;
}

export function abortedFailure(operation: string, display: string, signal: AbortSignal): BentoportError {
  return ftpFailure('ERR_ABORTED', operation, display, 'aborted', [], signal.reason);
}

export function throwIfSignalAborted(signal: AbortSignal | undefined, operation: string, display: string): void {
  if (signal?.aborted) throw abortedFailure(operation, display, signal);
}
