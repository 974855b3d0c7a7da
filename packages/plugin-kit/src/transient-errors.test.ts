import { BentoportError } from '@bentoport/spec';
import { describe, expect, it } from 'vitest';
import { isTlsVerificationError, isTransientHttpStatus, isTransientNetworkError } from './transient-errors.js';

const systemError = (code: string) => Object.assign(new Error(code), { code });

describe('isTransientNetworkError', () => {
  it('retries resets, refusals, timeouts and undici socket errors, also as a cause', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT']) {
      expect(isTransientNetworkError(systemError(code))).toBe(true);
    }
    expect(isTransientNetworkError(new TypeError('fetch failed', { cause: systemError('ECONNRESET') }))).toBe(true);
  });

  it('does not retry a name that does not resolve, a refusal, or a plain bug', () => {
    expect(isTransientNetworkError(systemError('ENOTFOUND'))).toBe(false);
    expect(isTransientNetworkError(new BentoportError('ERR_AUTH', 'no'))).toBe(false);
    expect(isTransientNetworkError(new TypeError('x is undefined'))).toBe(false);
  });

  it('follows the transient mark of a coded error and HTTP statuses', () => {
    expect(isTransientNetworkError(new BentoportError('ERR_IO', 'busy', { details: { transient: true } }))).toBe(true);
    expect(isTransientNetworkError(Object.assign(new Error('503'), { status: 503 }))).toBe(true);
    expect(isTransientHttpStatus(429)).toBe(true);
    expect(isTransientHttpStatus(404)).toBe(false);
  });

  it('recognises TLS verification failures', () => {
    expect(isTlsVerificationError(systemError('DEPTH_ZERO_SELF_SIGNED_CERT'))).toBe(true);
    expect(isTlsVerificationError(systemError('ECONNRESET'))).toBe(false);
  });
});
