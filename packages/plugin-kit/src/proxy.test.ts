import { describe, expect, it } from 'vitest';
import { proxyForUrl } from './proxy.js';

describe('proxyForUrl', () => {
  const env = { HTTPS_PROXY: 'http://proxy:3128', http_proxy: 'proxy2:8080', NO_PROXY: 'internal.corp, .svc,10.0.0.0/8,localhost:9000' };
  it('picks the variable for the scheme, adding http:// when missing', () => {
    expect(proxyForUrl('https://s3.amazonaws.com/b', env)).toBe('http://proxy:3128');
    expect(proxyForUrl('http://example.com/', env)).toBe('http://proxy2:8080');
    expect(proxyForUrl('https://example.com/', {})).toBeUndefined();
    expect(proxyForUrl('https://example.com/', { ALL_PROXY: 'socks5://s:1' })).toBe('socks5://s:1');
  });
  it('honours NO_PROXY names, subdomains, CIDR ranges, ports and *', () => {
    expect(proxyForUrl('https://internal.corp/x', env)).toBeUndefined();
    expect(proxyForUrl('https://a.internal.corp/x', env)).toBeUndefined();
    expect(proxyForUrl('https://notinternal.corp/x', env)).toBe('http://proxy:3128');
    expect(proxyForUrl('https://registry.svc/x', env)).toBeUndefined();
    expect(proxyForUrl('https://10.1.2.3/x', env)).toBeUndefined();
    expect(proxyForUrl('https://11.1.2.3/x', env)).toBe('http://proxy:3128');
    expect(proxyForUrl('http://localhost:9000/', env)).toBeUndefined();
    expect(proxyForUrl('http://localhost:9001/', env)).toBe('http://proxy2:8080');
    expect(proxyForUrl('https://anything/', { ...env, no_proxy: '*', NO_PROXY: undefined })).toBeUndefined();
  });
});
