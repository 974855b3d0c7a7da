import { describe, expect, it } from 'vitest';
import { redact } from './errors.js';
import { resolveImportSource } from './target.js';

describe('redact', () => {
  it('hides URL passwords and the values of secret query parameters, keeping the rest', () => {
    expect(redact('GET https://u:pw@h/p?a=1&X-Amz-Signature=abc&header.Authorization=Bearer+x&b=2 failed')).toBe(
      'GET https://u:***@h/p?a=1&X-Amz-Signature=***&header.Authorization=***&b=2 failed',
    );
    expect(redact('https://h/p?sig=s&Signature=t&X-Amz-Security-Token=u')).toBe('https://h/p?sig=***&Signature=***&X-Amz-Security-Token=***');
  });

  it('keeps presigned signatures out of a resolved location display', () => {
    const { location } = resolveImportSource('https://bucket.example.com/iris.tar.gz?X-Amz-Credential=AKIA&X-Amz-Signature=deadbeef', undefined, undefined, 'bento', '/');
    expect(location.query).toContain('X-Amz-Signature=deadbeef');
    expect(location.display).toBe('https://bucket.example.com/iris.tar.gz?X-Amz-Credential=***&X-Amz-Signature=***');
  });
});

describe('redactSecrets', () => {
  it('hides each secret raw and URL-encoded, and URL passwords too', async () => {
    const { redactSecrets, redactErrorSecrets } = await import('./errors.js');
    expect(redactSecrets('login p@ss/1 failed (p%40ss%2F1) ftp://u:other@h/x', ['p@ss/1'])).toBe(
      'login *** failed (***) ftp://u:***@h/x',
    );
    const error = redactErrorSecrets(new Error('bad passphrase hunter2'), ['hunter2', '']);
    expect(error.message).toBe('bad passphrase ***');
    expect(error.stack).not.toContain('hunter2');
  });
});
