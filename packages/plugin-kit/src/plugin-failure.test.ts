import { isBentoportError } from '@bentoport/spec';
import { describe, expect, it } from 'vitest';
import { abortedFailure, throwIfAborted } from './coded-errors.js';
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

describe('abortedFailure and throwIfAborted', () => {
  it('word an abort in the plugin line, keeping the reason as cause', () => {
    const controller = new AbortController();
    const reason = new Error('user');
    expect(() => throwIfAborted(controller.signal, 'transport-x', 'GET', 'x://h/p')).not.toThrow();
    controller.abort(reason);
    const failure = abortedFailure('transport-x', 'GET', 'x://u:pw@h/p', controller.signal);
    expect(failure.message).toBe('[transport-x] GET x://u:***@h/p: aborted');
    expect(failure.cause).toBe(reason);
    expect(() => throwIfAborted(controller.signal, 'transport-x', 'GET', 'x://h/p')).toThrow('[transport-x] GET x://h/p: aborted');
    expect(() => throwIfAborted(controller.signal, 'extraction')).toThrow('extraction was aborted');
  });
});
