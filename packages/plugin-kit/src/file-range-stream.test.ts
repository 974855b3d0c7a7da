import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isBentoportError } from '@bentoport/spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileRangeStream } from './file-range-stream.js';

let directory = '';
let file = '';
const bytes = Buffer.from(Array.from({ length: 1000 }, (_, index) => index % 251));

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'file-range-stream-'));
  file = path.join(directory, 'data.bin');
  await writeFile(file, bytes);
});
afterAll(() => rm(directory, { recursive: true, force: true }));

const base = { highWaterMark: 64, component: 'transport-x', target: 'x://h/data.bin' };

describe('fileRangeStream', () => {
  it('streams [start, end) in reads of at most highWaterMark bytes, and to the end with Infinity', async () => {
    const chunks = await fileRangeStream(await open(file, 'r'), { ...base, start: 10, end: 500 }).toArray();
    expect(Buffer.concat(chunks)).toEqual(bytes.subarray(10, 500));
    expect(Math.max(...chunks.map((chunk: Buffer) => chunk.length))).toBeLessThanOrEqual(64);
    expect(Buffer.concat(await fileRangeStream(await open(file, 'r'), { ...base, start: 990, end: Infinity }).toArray())).toEqual(bytes.subarray(990));
  });

  it('ends with ERR_ABORTED, naming the plugin and target, when the signal fires', async () => {
    const controller = new AbortController();
    const stream = fileRangeStream(await open(file, 'r'), { ...base, start: 0, end: 1000, signal: controller.signal });
    controller.abort();
    const error = await stream.toArray().catch((caught: unknown) => caught);
    expect(isBentoportError(error, 'ERR_ABORTED')).toBe(true);
    expect((error as Error).message).toBe('[transport-x] READ x://h/data.bin: aborted');
  });
});
