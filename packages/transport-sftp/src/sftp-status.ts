import { isTransientNetworkError, networkFailure } from '@bentoport/plugin-kit';
import { isBentoportError, type BentoportError, type ErrorCode } from '@bentoport/spec';

/** The name this transport gives itself in messages. */
export const COMPONENT = 'transport-sftp';

/** SFTP status codes (draft-ietf-secsh-filexfer-02) that the server sends with a failure. */
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;

/** What ssh2 puts on its errors: an SFTP status (a number) or a system code, and the stage that failed. */
interface SshError {
  code?: unknown;
  level?: unknown;
  message?: unknown;
}

/** Whether the connection itself failed (worth reconnecting), rather than the server refusing a request. */
export function isTransientSshError(error: unknown): boolean {
  if (isBentoportError(error)) return error.details.transient === true;
  const { code, level, message } = (error ?? {}) as SshError;
  if (level === 'client-authentication' || level === 'client-hostverification') return false;
  if (typeof code === 'number') return false;
  if (isTransientNetworkError(error) || level === 'client-socket' || level === 'client-timeout') return true;
  // ssh2's own wording for a connection that went away under a request.
  return /no response|not connected|connection (lost|closed)|closed|timed out|keepalive|channel/i.test(String(message ?? ''));
}

function statusCode(error: unknown): ErrorCode | undefined {
  const { code, level } = (error ?? {}) as SshError;
  if (level === 'client-authentication') return 'ERR_AUTH';
  if (code === NO_SUCH_FILE || code === 'ENOENT') return 'ERR_NOT_FOUND';
  if (code === PERMISSION_DENIED) return 'ERR_PERMISSION';
  return undefined;
}

function reasonOf(error: unknown): string | undefined {
  const { level, message } = (error ?? {}) as SshError;
  if (level === 'client-authentication') return `the server refused every login method tried (${String(message)})`;
  if (level === 'client-timeout') return `no SSH handshake within connectTimeoutMs (${String(message)})`;
  return undefined;
}

/** Anything ssh2 or the network threw, as the transport's coded, scrubbed one-line error. */
export function sftpFailure(error: unknown, operation: string, display: string, secrets: readonly string[], signal?: AbortSignal): BentoportError {
  return networkFailure(COMPONENT, operation, display, error, { secrets, signal, code: statusCode, reason: reasonOf, isRetryable: isTransientSshError });
}
