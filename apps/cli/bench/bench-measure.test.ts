import { describe, expect, it } from 'vitest';
import { median, pairedOverhead, type Sample } from './bench-measure.js';

const samples = (...seconds: number[]): Sample[] => seconds.map((value) => ({ seconds: value, maxRssMiB: undefined, size: undefined }));

describe('pairedOverhead', () => {
  it('cancels a cost of going first that the medians of each side keep', () => {
    // Whichever runs first in a round takes 3 s, the other 1.5 s; signed goes first in rounds 1, 3, 5.
    const signed = samples(3, 1.5, 3, 1.5, 3, 1.5);
    const unsigned = samples(1.5, 3, 1.5, 3, 1.5, 3);
    expect(pairedOverhead(signed, unsigned)).toBeCloseTo(0, 10);
    // The same order effect with signed first in two of three rounds: its median doubles.
    expect(median([3, 1.5, 3]) / median([1.5, 3, 1.5]) - 1).toBe(1);
  });

  it('finds a real cost through the noise of each round', () => {
    const unsigned = [2, 3, 1.6, 2.9, 1.8, 3.1];
    const signed = unsigned.map((value) => value * 1.08);
    expect(pairedOverhead(samples(...signed), samples(...unsigned))).toBeCloseTo(0.08, 10);
    expect(pairedOverhead(samples(...unsigned), samples(...signed))).toBeCloseTo(1 / 1.08 - 1, 10);
  });

  it('refuses samples that do not pair up', () => {
    expect(() => pairedOverhead(samples(1, 2), samples(1))).toThrow(/2 and 1 samples/);
    expect(() => pairedOverhead([], [])).toThrow(/at least one/);
  });
});
