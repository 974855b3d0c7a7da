import { Readable } from 'node:stream';
import { BentoportError, type Location, type Transport } from '@bentoport/spec';
import { describe, expect, it } from 'vitest';
import { emptyIndex, INDEX_LAYOUT_VERSION, mergeIndex, parseIndex, readIndex, type IndexedItem } from './remote-store-index.js';

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

/**
 * A store root whose index reads fail `failures` times the way S3 fails a read that another
 * writer's replacement overtook (an ERR_IO from the body, after the read started), then succeed.
 */
function racingStore(failures: number, failure = () => new BentoportError('ERR_IO', 'the object changed while it was being read (412 Precondition Failed)')) {
  const reads = { count: 0 };
  const text = `${JSON.stringify({ ...emptyIndex(), generation: 3, items: [item('m')] })}\n`;
  const transport = {
    read: async () => {
      reads.count++;
      if (reads.count > failures) return Readable.from([Buffer.from(text)]);
      return new Readable({
        read() {
          this.destroy(failure());
        },
      });
    },
  } as unknown as Transport;
  const root: Location = { protocol: 's3', host: 'bucket', path: '/store', query: '', display: 's3://bucket/store' };
  return { transport, root, reads };
}

describe('reading the remote store index', () => {
  it('reads again when another writer replaced the index during the read', async () => {
    const store = racingStore(2);
    const index = await readIndex(store.transport, store.root);
    expect(index?.generation).toBe(3);
    expect(store.reads.count).toBe(3);
  });

  it('gives up after a bounded number of reads, with the transport\'s error', async () => {
    const store = racingStore(100);
    await expect(readIndex(store.transport, store.root)).rejects.toThrow(/changed while it was being read/);
    expect(store.reads.count).toBe(4);
  });

  it('does not read again after an error that is not I/O', async () => {
    const store = racingStore(1, () => new BentoportError('ERR_AUTH', 'access denied'));
    await expect(readIndex(store.transport, store.root)).rejects.toThrow(/access denied/);
    expect(store.reads.count).toBe(1);
  });
});
