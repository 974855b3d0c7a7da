import { describe, expect, it } from 'vitest';
import { displayUrl, redactQuery, requestTargetOf } from './request-target.js';
import { httpLocation } from './test-support/locations.js';

describe('requestTargetOf', () => {
  it('keeps a presigned query byte for byte and takes only header.* parameters out of it', () => {
    const query = 'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&header.Authorization=Bearer+abc%2Bdef&X-Amz-Signature=deadbeef';
    const target = requestTargetOf(httpLocation('https', 'bucket.s3.amazonaws.com', '/bentos/iris.tar.gz', query), 'GET');
    expect(target.url.search).toBe('?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=deadbeef');
    expect(target.headers).toEqual({ Authorization: 'Bearer abc+def' });
    expect(target.display).not.toContain('deadbeef');
    expect(target.display).toContain('X-Amz-Signature=***');
  });

  it('decodes user:password@ into credentials and leaves them out of the URL and the display', () => {
    const target = requestTargetOf(httpLocation('http', 'me:p%40ss%2Fword@example.com:8080', '/a b/file.zip'), 'GET');
    expect(target.credentials).toEqual({ user: 'me', password: 'p@ss/word' });
    expect(target.url.href).toBe('http://example.com:8080/a%20b/file.zip');
    expect(target.display).toBe('http://me:***@example.com:8080/a%20b/file.zip');
  });

  it('refuses another protocol, a header parameter that is not a header name, and a line break in a value', () => {
    expect(() => requestTargetOf({ ...httpLocation('http', 'h', '/x'), protocol: 'ftp' }, 'GET')).toThrow(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_PROTOCOL' }),
    );
    expect(() => requestTargetOf(httpLocation('http', 'h', '/x', 'header.Bad%20Name=1'), 'GET')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TARGET' }));
    expect(() => requestTargetOf(httpLocation('http', 'h', '/x', 'header.X-Token=a%0D%0AInjected:1'), 'GET')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TARGET' }));
  });
});

describe('redaction', () => {
  it('hides signature, token and header values but keeps the other parameters', () => {
    expect(redactQuery('a=1&Signature=s3cr3t&sig=x&header.X-Api-Key=k&X-Amz-Security-Token=t&b=2')).toBe(
      'a=1&Signature=***&sig=***&header.X-Api-Key=***&X-Amz-Security-Token=***&b=2',
    );
    expect(displayUrl(new URL('https://h/p?X-Goog-Signature=abc'), 'u')).toBe('https://u:***@h/p?X-Goog-Signature=***');
  });
});
