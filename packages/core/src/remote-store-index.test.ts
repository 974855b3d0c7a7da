import { describe, expect, it } from 'vitest';
import { emptyIndex, INDEX_LAYOUT_VERSION, mergeIndex, parseIndex, type IndexedItem } from './remote-store-index.js';

const item = (name: string, sha = 'a'): IndexedItem => ({
  kind: 'model',
  name,
  version: 'v1',
  creationTime: 1,
  models: [],
  signed: false,
  file: `models/${name}/v1.bentomodel`,
  format: 'bentomodel',
  size: 3,
  sha256: sha.repeat(64),
});

describe('the remote store index', () => {
  it('merges puts and removals onto the current generation, sorted', () => {
    const current = mergeIndex(emptyIndex(), { put: [item('b'), item('a')], remove: [] }, 'one');
    expect(current.generation).toBe(1);
    expect(current.items.map((entry) => entry.name)).toEqual(['a', 'b']);
    const next = mergeIndex(current, { put: [item('c'), item('a', 'b')], remove: [{ kind: 'model', name: 'b', version: 'v1' }] }, 'two');
    expect(next).toMatchObject({ generation: 2, writer: 'two' });
    expect(next.items.map((entry) => `${entry.name} ${entry.sha256[0]}`)).toEqual(['a b', 'c a']);
    expect(parseIndex(JSON.stringify(next), 'index')).toEqual(next);
  });

  it('refuses what is not an index, a malformed item, and a newer layout', () => {
    expect(() => parseIndex('{"kind":', 'x')).toThrow(/not valid JSON/);
    expect(() => parseIndex('{"kind":"other"}', 'x')).toThrow(/not a bentoport remote store index/);
    const bad = { ...emptyIndex(), items: [{ ...item('a'), sha256: 'nothex' }] };
    expect(() => parseIndex(JSON.stringify(bad), 'x')).toThrow(/malformed item/);
    expect(() => parseIndex(JSON.stringify({ ...emptyIndex(), layout: INDEX_LAYOUT_VERSION + 1 }), 'x')).toThrow(expect.objectContaining({ code: 'ERR_PLUGIN_VERSION' }));
  });
});
