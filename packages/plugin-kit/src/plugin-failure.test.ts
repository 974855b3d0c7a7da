import { isBentoportError } from '@bentoport/spec';
import { describe, expect, it } from 'vitest';
import { errorCodeForHttpStatus, pluginFailure } from './plugin-failure.js';
import { isTransientNetworkError } from './transient-errors.js';

describe('pluginFailure', () => {
  it('writes one redacted line naming component, operation and target, keeping the cause', () => {
    const cause = new Error('530 Login incorrect for hunter2');
    const failure = pluginFailure('transport-ftp', 'ERR_AUTH', 'LOGIN', 'ftp://bob:hunter2@h/x', 'refused\nby server', { cause, secrets: ['hunter2'] });
    expect(isBentoportError(failure, 'ERR_AUTH')).toBe(true);
    expect(failure.message).toBe('[transport-ftp] LOGIN ftp://bob:***@h/x: refused by server');
    expect((failure.cause as Error).message).toBe('530 Login incorrect for ***');
  });

  it('marks transient failures for the retry loop', () => {
    expect(isTransientNetworkError(pluginFailure('transport-x', 'ERR_IO', 'GET', 'x://h/p', 'reset', { transient: true }))).toBe(true);
    expect(isTransientNetworkError(pluginFailure('transport-x', 'ERR_IO', 'GET', 'x://h/p', 'bad'))).toBe(false);
  });

  it('maps HTTP statuses to codes', () => {
    expect([401, 403, 404, 410, 409, 500].map(errorCodeForHttpStatus)).toEqual(['ERR_AUTH', 'ERR_AUTH', 'ERR_NOT_FOUND', 'ERR_NOT_FOUND', 'ERR_ALREADY_EXISTS', 'ERR_IO']);
  });
});
