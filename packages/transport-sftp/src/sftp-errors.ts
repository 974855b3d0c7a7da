import { BentoportError, isBentoportError, redactErrorSecrets, redactSecrets, type ErrorCode } from '@bentoport/core';

export const COMPONENT = 'transport-sftp';

/** SFTP status codes (draft-ietf-secsh-filexfer-02) that the server sends with a failure. */
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;

/** `[transport-sftp] <OPERATION> <display>: <reason>`, scrubbed, with the original error as `cause`. */
export function sftpFailure(
  code: ErrorCode,
  operation: string,
  display: string,
  reason: string,
  secrets: readonly string[] = [],
  cause?: unknown,
): BentoportError {
  return new BentoportError(code, redactSecrets(`[${COMPONENT}] ${operation} ${display}: ${reason}`, secrets), cause === undefined ? {} : { cause: redactErrorSecrets(cause, secrets) });
}

interface SshError {
  code?: unknown;
  level?: unknown;
  message?: unknown;
}

/** Whether the connection itself failed (worth reconnecting), rather than the server refusing a request. */
export function isTransient(error: unknown): boolean {
  if (isBentoportError(error)) return error.details.transient === true;
  const { code, level, message } = (error ?? {}) as SshError;
  if (level === 'client-authentication' || level === 'client-hostverification') return false;
  if (typeof code === 'number') return false;
  if (typeof code === 'string' && ['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(code)) return true;
  if (level === 'client-socket' || level === 'client-timeout') return true;
  return /no response|not connected|connection (lost|closed)|closed|timed out|keepalive|channel/i.test(String(message ?? ''));
}

function codeFor(error: unknown): ErrorCode {
  const { code, level } = (error ?? {}) as SshError;
  if (level === 'client-authentication') return 'ERR_AUTH';
  if (code === NO_SUCH_FILE || code === 'ENOENT') return 'ERR_NOT_FOUND';
  if (code === PERMISSION_DENIED) return 'ERR_PERMISSION';
  if (code === 'ABORT_ERR' || (error as Error | undefined)?.name === 'AbortError') return 'ERR_ABORTED';
  return 'ERR_IO';
}

/** Turn anything thrown by ssh2 or the network into a coded, scrubbed BentoportError. */
export function fromSftpError(error: unknown, operation: string, display: string, secrets: readonly string[]): BentoportError {
  if (isBentoportError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = codeFor(error);
  const reason = code === 'ERR_AUTH' ? `the server refused every login method tried (${message})` : message;
  const failure = sftpFailure(code, operation, display, reason, secrets, error);
  if (isTransient(error)) failure.details.transient = true;
  return failure;
}

export function abortedFailure(operation: string, display: string, signal: AbortSignal): BentoportError {
  return sftpFailure('ERR_ABORTED', operation, display, 'aborted', [], signal.reason);
}

export function throwIfSignalAborted(signal: AbortSignal | undefined, operation: string, display: string): void {
  if (signal?.aborted) throw abortedFailure(operation, display, signal);
}
