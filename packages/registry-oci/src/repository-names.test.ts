import { isValidTagPart } from '@bentoport/core';
import { describe, expect, it } from 'vitest';
import { escapeName, isOciComponent, itemRepository, unescapeName } from './repository-names.js';

describe('repository name escaping', () => {
  it('keeps names that OCI already accepts', () => {
    for (const name of ['iris', 'iris_classifier', 'a.b', 'a__b', 'a-b', 'a--b', 'llama3-8b.q4']) expect(escapeName(name)).toBe(name);
  });

  it('escapes separator runs OCI forbids, reversibly', () => {
    expect(escapeName('a._b')).toBe('a---2e5f---b');
    expect(escapeName('a..b')).toBe('a---2e2e---b');
    expect(escapeName('a___b')).toBe('a---5f5f5f---b');
    expect(escapeName('a---b')).toBe('a---2d2d2d---b');
    expect(unescapeName('a---2e5f---b')).toBe('a._b');
    expect(unescapeName('a---2d2d2d---b')).toBe('a---b');
  });

  it('round-trips every generated BentoML name into a valid, distinct OCI component', () => {
    const alphabet = 'ab9._-';
    const seen = new Map<string, string>();
    let state = 7;
    const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31);
    for (let round = 0; round < 5000; round++) {
      const length = 1 + (next() % 12);
      let name = 'x';
      for (let index = 0; index < length; index++) name += alphabet[next() % alphabet.length];
      name += 'z';
      if (!isValidTagPart(name)) continue;
      const escaped = escapeName(name);
      expect(isOciComponent(escaped), `${name} → ${escaped}`).toBe(true);
      expect(unescapeName(escaped)).toBe(name);
      const other = seen.get(escaped);
      if (other !== undefined) expect(other).toBe(name);
      seen.set(escaped, name);
    }
    expect(seen.size).toBeGreaterThan(1000);
  });

  it('puts models under models/ so a bento and a model of one name never share a repository', () => {
    expect(itemRepository('team', 'bento', 'svc')).toBe('team/svc');
    expect(itemRepository('team', 'model', 'svc')).toBe('team/models/svc');
    expect(itemRepository('', 'bento', 'svc')).toBe('svc');
    expect(itemRepository('', 'model', 'svc')).toBe('models/svc');
  });
});
