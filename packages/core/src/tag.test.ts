import { describe, expect, it } from 'vitest';
import { isBentoportError } from '@bentoport/spec';
import { compareTags, formatTag, makeTag, newVersion, parseTag } from './tag.js';

const LENGTH = "a tag's name or version must be at most 63 characters in length";
const CHARACTERS =
  "a tag's name or version must consist of lowercase alphanumeric characters, '_', '-', or '.', and must start and end with an alphanumeric character";

function errorOf(action: () => unknown): Error & { code?: string } {
  try {
    action();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected an error');
}

describe('tags: BentoML\'s name:version rules and messages', () => {
  it('lower-cases with BentoML warning text', () => {
    const warnings: string[] = [];
    const tag = parseTag('MyBento:V1', (message) => warnings.push(message));
    expect(formatTag(tag)).toBe('mybento:v1');
    expect(warnings).toEqual([
      "[bentoml] Converting 'MyBento' to lowercase: 'mybento'.",
      "[bentoml] Converting 'V1' to lowercase: 'v1'.",
    ]);
  });

  it('reports both errors, length first, for a 64-character name', () => {
    const error = errorOf(() => makeTag(`${'a'.repeat(63)}-`));
    expect(error.message).toBe(`${'a'.repeat(63)}- is not a valid BentoML tag: ${LENGTH}, and ${CHARACTERS}`);
    expect(isBentoportError(error, 'ERR_INVALID_TAG')).toBe(true);
    expect(errorOf(() => makeTag('a'.repeat(64))).message).toBe(`${'a'.repeat(64)} is not a valid BentoML tag: ${LENGTH}`);
    expect(() => makeTag('a'.repeat(63))).not.toThrow();
  });

  it.each(['-a', 'a-', 'a b', 'a/b', '', '.a', 'a_'])('rejects %j', (value) => {
    expect(errorOf(() => parseTag(value)).message).toBe(`${value.toLowerCase()} is not a valid BentoML tag: ${CHARACTERS}`);
  });

  it('accepts dots, underscores and dashes inside', () => {
    expect(formatTag(parseTag('a.b_c-d'))).toBe('a.b_c-d');
    expect(parseTag('x').version).toBeUndefined();
  });

  it("gives BentoML's trailing-colon message for foo:", () => {
    expect(errorOf(() => parseTag('foo:')).message).toBe("foo: contains trailing ':'. Maybe you meant to use `foo::latest`?");
  });

  it('splits at the first colon, so a:b:c is invalid', () => {
    const error = errorOf(() => parseTag('a:b:c'));
    expect(error.message).toBe('Invalid Tag a:b:c');
    expect(error.code).toBe('ERR_INVALID_TAG');
    expect(errorOf(() => parseTag(':v1')).message).toBe('Invalid Tag :v1');
  });

  it('orders by name, then a missing version first, then versions as strings', () => {
    const tags = ['b:1', 'a:2', 'a', 'a:10'].map((text) => parseTag(text));
    expect(tags.sort(compareTags).map(formatTag)).toEqual(['a', 'a:10', 'a:2', 'b:1']);
  });

  it('generates 16-character base32 versions, unique and valid', () => {
    const versions = new Set(Array.from({ length: 200 }, () => newVersion()));
    expect(versions.size).toBe(200);
    for (const version of versions) {
      expect(version).toMatch(/^[a-z2-7]{16}$/);
      expect(() => makeTag('x', version)).not.toThrow();
    }
  });
});
