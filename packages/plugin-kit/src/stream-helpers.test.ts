import { describe, expect, it } from 'vitest';
import { gatherChunks } from './stream-helpers.js';

async function* chunksOf(sizes: number[]): AsyncGenerator<Buffer> {
  let value = 0;
  for (const size of sizes) yield Buffer.alloc(size, value++ % 256);
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return chunks;
}

describe('gatherChunks', () => {
  it('gathers small chunks to at least minBytes, keeps order and bytes, and yields the rest at the end', async () => {
    const sizes = Array.from({ length: 100 }, (_, index) => 10 + index);
    const input = Buffer.concat(await collect(chunksOf(sizes)));
    const gathered = await collect(gatherChunks(chunksOf(sizes), 1000));
    expect(Buffer.concat(gathered).equals(input)).toBe(true);
    for (const chunk of gathered.slice(0, -1)) expect(chunk.length).toBeGreaterThanOrEqual(1000);
    expect(gathered.length).toBeLessThan(sizes.length / 5);
  });

  it('passes a large chunk through as the same buffer, after what it held', async () => {
    const large = Buffer.alloc(5000, 9);
    async function* source(): AsyncGenerator<Buffer> {
      yield Buffer.from('ab');
      yield large;
      yield Buffer.from('c');
    }
    const gathered = await collect(gatherChunks(source(), 1000));
    expect(gathered.map((chunk) => chunk.length)).toEqual([2, 5000, 1]);
    expect(gathered[1]).toBe(large);
  });

  it('yields nothing for an empty source', async () => {
    expect(await collect(gatherChunks(chunksOf([]), 1000))).toEqual([]);
  });
});
