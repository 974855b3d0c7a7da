import { isBentoportError } from '@bentoport/spec';
import { describe, expect, it } from 'vitest';
import { NETWORK_DEFAULTS, RENAMED_NETWORK_OPTIONS, resolveNetworkOptions } from './network-options.js';

describe('resolveNetworkOptions', () => {
  it('applies the documented defaults', () => {
    const env = { HTTPS_PROXY: 'http://proxy:3128' };
    expect(resolveNetworkOptions('transport-x', { env })).toEqual({ ...NETWORK_DEFAULTS, ca: undefined, env });
  });

  it('names the plugin and the option of an out-of-range value', () => {
    try {
      resolveNetworkOptions('transport-x', { timeoutMs: 0 });
      expect.unreachable();
    } catch (error) {
      expect(isBentoportError(error, 'ERR_INVALID_OPTION')).toBe(true);
      expect((error as Error).message).toBe('[transport-x] options.timeoutMs must be an integer of at least 1, got 0');
    }
    expect(() => resolveNetworkOptions('transport-x', { retries: -1 })).toThrow('options.retries must be a non-negative integer, got -1');
  });

  it('throws a TypeError for a value of the wrong type', () => {
    expect(() => resolveNetworkOptions('transport-x', { retryDelayMs: '5' as unknown as number })).toThrow(TypeError);
    expect(() => resolveNetworkOptions('transport-x', { rejectUnauthorized: 'no' as unknown as boolean })).toThrow(TypeError);
  });

  it('refuses every network option renamed in this release instead of dropping its setting', () => {
    const old = ['insecure', 'attempts', 'requestTimeoutMs', 'timeout', 'connectTimeout', 'connectionTimeout', 'socketTimeout', 'retryDelay', 'retryDelayMilliseconds'];
    expect(Object.keys(RENAMED_NETWORK_OPTIONS).sort()).toEqual([...old].sort());
    for (const name of old) {
      try {
        resolveNetworkOptions('registry-oci', { [name]: 1 } as never);
        expect.unreachable(name);
      } catch (error) {
        expect(isBentoportError(error, 'ERR_INVALID_OPTION')).toBe(true);
        expect((error as Error).message).toMatch(new RegExp(`^\\[registry-oci\\] options\\.${name} was renamed: use \\w+`));
      }
    }
    expect(() => resolveNetworkOptions('registry-oci', { insecure: true } as never)).toThrow(
      '[registry-oci] options.insecure was renamed: use rejectUnauthorized: false',
    );
  });
});
