import { describe, expect, it } from 'vitest';
import { decoderThreads, MAX_DEFAULT_DECODERS } from './bunzip2-transform.js';

describe('decoder threads', () => {
  it('are one per core up to the cap by default, and exactly what concurrency says when given', () => {
    expect(decoderThreads(undefined, 2)).toBe(2);
    expect(decoderThreads(undefined, 64)).toBe(MAX_DEFAULT_DECODERS);
    expect(MAX_DEFAULT_DECODERS).toBe(8);
    expect(decoderThreads(12, 64)).toBe(12);
    expect(decoderThreads(1, 64)).toBe(1);
  });
});
