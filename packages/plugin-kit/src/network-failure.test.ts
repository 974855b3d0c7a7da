import { BentoportError, isBentoportError } from '@bentoport/spec';
import { describe, expect, it } from 'vitest';
import { networkFailure, timeoutError } from './network-failure.js';
import { isTransientNetworkError } from './transient-errors.js';

const systemError = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('networkFailure', () => {
  it('writes one redacted line, marks transient failures and keeps the cause', () => {
    const cause = systemError('ECONNRESET', 'read ECONNRESET while sending hunter2');
    const failure = networkFailure('transport-x', 'GET', 'x://u:hunter2@h/p', cause, { secrets: ['hunter2'] });
    expect(failure.message).toBe('[transport-x] GET x://u:***@h/p: read ECONNRESET while sending ***');
    expect(failure.cause).toBe(cause);
    expect(isTransientNetworkError(failure)).toBe(true);
    expect(failure.code).toBe('ERR_IO');
  });

  it('names the system code when the message does not, and returns coded errors as they are', () => {
    expect(networkFailure('transport-x', 'GET', 'x://h/p', systemError('UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error')).message).toBe(
      '[transport-x] GET x://h/p: UND_ERR_HEADERS_TIMEOUT: Headers Timeout Error',
    );
    const coded = new BentoportError('ERR_NOT_FOUND', 'gone');
    expect(networkFailure('transport-x', 'GET', 'x://h/p', coded)).toBe(coded);
  });

  it('says ERR_ABORTED once the signal fired, and ERR_AUTH with a hint for an untrusted certificate', () => {
    const controller = new AbortController();
    controller.abort(new Error('user'));
    expect(networkFailure('transport-x', 'PUT', 'x://h/p', systemError('ECONNRESET'), { signal: controller.signal }).code).toBe('ERR_ABORTED');
    const tls = networkFailure('transport-x', 'PUT', 'x://h/p', systemError('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'));
    expect(isBentoportError(tls, 'ERR_AUTH')).toBe(true);
    expect(tls.message).toMatch(/TLS certificate was not verified \(DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate\); trust its CA with the `ca` option$/);
    expect(isTransientNetworkError(tls)).toBe(false);
  });

  it('takes the protocol code, reason and classification', () => {
    const reply = Object.assign(new Error('530 Login incorrect.'), { code: 530 });
    const failure = networkFailure('transport-ftp', 'LOGIN', 'ftp://h/', reply, {
      code: (error) => ((error as { code?: unknown }).code === 530 ? 'ERR_AUTH' : undefined),
      reason: () => 'refused',
      isRetryable: () => false,
    });
    expect(failure.code).toBe('ERR_AUTH');
    expect(failure.message).toBe('[transport-ftp] LOGIN ftp://h/: refused');
  });
});

describe('timeoutError', () => {
  it('is a transient ETIMEDOUT naming the option', () => {
    const error = timeoutError('no reply to STAT', 500, 'timeoutMs');
    expect(error.message).toBe('no reply to STAT within 500 ms (timeoutMs)');
    expect(isTransientNetworkError(error)).toBe(true);
    expect(networkFailure('transport-x', 'STAT', 'x://h/p', error).message).toBe('[transport-x] STAT x://h/p: no reply to STAT within 500 ms (timeoutMs)');
  });
});
