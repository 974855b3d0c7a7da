import { describe, expect, it } from 'vitest';
import { ResumeBuffer } from './resume-buffer.js';

/** `count` bytes counting up from `first` (mod 256): every offset's byte is known. */
function bytes(first: number, count: number): Buffer {
  return Buffer.from(Array.from({ length: count }, (_, index) => (first + index) % 256));
}

describe('ResumeBuffer', () => {
  it('gives back every byte from an offset while fewer than the limit were appended', () => {
    const buffer = new ResumeBuffer(100);
    buffer.append(bytes(0, 30));
    buffer.append(bytes(30, 40));
    expect(buffer.start).toBe(0);
    expect(Buffer.concat(buffer.from(0))).toEqual(bytes(0, 70));
    expect(Buffer.concat(buffer.from(25))).toEqual(bytes(25, 45));
    expect(buffer.from(70)).toEqual([]);
  });

  it('keeps exactly the last `limit` bytes across the ring’s wrap, whatever the chunking', () => {
    for (const chunkSize of [1, 7, 33, 100, 250]) {
      const buffer = new ResumeBuffer(100);
      let end = 0;
      while (end < 1000) {
        const count = Math.min(chunkSize, 1000 - end);
        buffer.append(bytes(end, count));
        end += count;
        expect(buffer.start).toBe(Math.max(0, end - 100));
        expect(Buffer.concat(buffer.from(buffer.start))).toEqual(bytes(buffer.start, end - buffer.start));
      }
      expect(Buffer.concat(buffer.from(950))).toEqual(bytes(950, 50));
      // Before the start: what is held, from the start.
      expect(Buffer.concat(buffer.from(0))).toEqual(bytes(900, 100));
    }
  });

  it('does not hold the chunks it was given, and its answers do not change with later appends', () => {
    const buffer = new ResumeBuffer(16);
    const chunk = bytes(0, 10);
    buffer.append(chunk);
    chunk.fill(0xff);
    const held = buffer.from(0);
    expect(Buffer.concat(held)).toEqual(bytes(0, 10));
    buffer.append(bytes(10, 16));
    expect(Buffer.concat(held)).toEqual(bytes(0, 10));
    expect(Buffer.concat(buffer.from(0))).toEqual(bytes(10, 16));
  });

  it('refuses a limit below one byte', () => {
    expect(() => new ResumeBuffer(0)).toThrow(RangeError);
  });
});
