import { describe, expect, it } from 'vitest';
import { redact, redactErrorSecrets, redactSecrets } from './redaction.js';

describe('redact', () => {
  it('hides URL passwords and the values of secret query parameters, keeping the rest', () => {
    expect(redact('GET https://u:pw@h/p?a=1&X-Amz-Signature=abc&header.Authorization=Bearer+x&b=2 failed')).toBe(
      'GET https://u:***@h/p?a=1&X-Amz-Signature=***&header.Authorization=***&b=2 failed',
    );
    expect(redact('https://h/p?sig=s&Signature=t&X-Amz-Security-Token=u')).toBe('https://h/p?sig=***&Signature=***&X-Amz-Security-Token=***');
  });

  it('keeps the `: ` that ends the target of a plugin message', () => {
    expect(redact('[transport-http] GET http://h/x.bin?X-Amz-Signature=abc:def: 404 Not Found')).toBe('[transport-http] GET http://h/x.bin?X-Amz-Signature=***: 404 Not Found');
  });
});

describe('redactSecrets', () => {
  it('hides each secret raw and URL-encoded, and URL passwords too', () => {
    expect(redactSecrets('login p@ss/1 failed (p%40ss%2F1) ftp://u:other@h/x', ['p@ss/1'])).toBe(
      'login *** failed (***) ftp://u:***@h/x',
    );
    const error = redactErrorSecrets(new Error('bad passphrase hunter2'), ['hunter2', '']);
    expect(error.message).toBe('bad passphrase ***');
    expect(error.stack).not.toContain('hunter2');
  });
});

describe('redactSecrets with a short password', () => {
  it('hides the credential fields, not every letter that matches', () => {
    const message = '[transport-ftp] STAT ftp://u:p@127.0.0.1:2121/x.bento: Server sent FIN packet unexpectedly';
    expect(redactSecrets(message, ['p'])).toBe('[transport-ftp] STAT ftp://u:***@127.0.0.1:2121/x.bento: Server sent FIN packet unexpectedly');
    expect(redactSecrets('login with p failed; p', ['p'])).toBe('login with *** failed; ***');
  });

  it('hides secrets that start or end with punctuation', () => {
    expect(redactSecrets('token=.s3cr3t! was refused', ['.s3cr3t!'])).toBe('token=*** was refused');
  });
});

describe('redactSecrets with a long password', () => {
  it('hides it even inside a longer word', () => {
    expect(redactSecrets('auth failed for hunter2x and hunter2', ['hunter2'])).toBe('auth failed for ***x and ***');
  });
});
