import { isBentoportError } from '@bentoport/spec';
import { describe, expect, it } from 'vitest';
import { optionChecks } from './option-validation.js';

const check = optionChecks('format-x');

describe('optionChecks', () => {
  it('returns the value or the fallback', () => {
    expect(check.integer('parts', undefined, 4, 1)).toBe(4);
    expect(check.integer('parts', 7, 4, 1)).toBe(7);
    expect(check.boolean('on', undefined, true)).toBe(true);
    expect(check.oneOf('mode', 'b', ['a', 'b'], 'a')).toBe('b');
    expect(check.optionalString('name', undefined)).toBeUndefined();
    expect(check.object(undefined)).toEqual({});
  });

  it('refuses out-of-range values with ERR_INVALID_OPTION naming the option', () => {
    expect(() => check.integer('parts', 65, 4, 1, 64)).toThrow('[format-x] options.parts must be an integer from 1 to 64, got 65');
    expect(check.invalid('url', 'an http:// URL', 'ftp://x').message).toBe('[format-x] options.url must be an http:// URL, got "ftp://x"');
    for (const attempt of [() => check.integer('parts', 0.5, 4), () => check.oneOf('mode', 'c', ['a', 'b'], 'a'), () => check.optionalString('name', '')]) {
      try {
        attempt();
        expect.unreachable();
      } catch (error) {
        expect(isBentoportError(error, 'ERR_INVALID_OPTION')).toBe(true);
        expect((error as Error).message).toMatch(/^\[format-x\] options\.(parts|mode|name) must be /);
      }
    }
  });

  it('throws TypeErrors for wrong types', () => {
    expect(() => check.integer('parts', '4', 4)).toThrow(TypeError);
    expect(() => check.object(null as unknown as object)).toThrow(TypeError);
  });

  it('refuses a renamed option that is set, naming its replacement', () => {
    const renames = { insecure: 'rejectUnauthorized: false', attempts: 'retries' };
    expect(() => check.renamed({ insecure: true }, renames)).toThrow('[format-x] options.insecure was renamed: use rejectUnauthorized: false');
    try {
      check.renamed({ retries: 2, attempts: 0 }, renames);
      expect.unreachable();
    } catch (error) {
      expect(isBentoportError(error, 'ERR_INVALID_OPTION')).toBe(true);
      expect((error as { details?: unknown }).details).toEqual({ option: 'attempts', replacement: 'retries' });
    }
  });

  it('lets options through that set no renamed name (or set one to undefined)', () => {
    const renames = { insecure: 'rejectUnauthorized: false' };
    expect(() => check.renamed({ rejectUnauthorized: false, insecure: undefined }, renames)).not.toThrow();
    expect(() => check.renamed(undefined, renames)).not.toThrow();
  });
});
