import { isBentoportError } from '@bentoport/spec';
import { describe, expect, it } from 'vitest';
import { httpTransport, type HttpTransportOptions } from './http-transport.js';

describe('httpTransport options', () => {
  it('refuses the undici dispatcher of earlier releases instead of ignoring it', () => {
    const error = (() => {
      try {
        httpTransport({ dispatcher: {} } as HttpTransportOptions);
        return undefined;
      } catch (caught) {
        return caught;
      }
    })();
    expect(isBentoportError(error, 'ERR_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toMatch(/^\[transport-http\] options\.dispatcher was renamed: use ca, rejectUnauthorized, connectTimeoutMs, timeoutMs and HTTPS_PROXY/);
  });
});
