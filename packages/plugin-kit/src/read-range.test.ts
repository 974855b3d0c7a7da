import { describe, expect, it } from 'vitest';
import { checkReadRange } from './read-range.js';

describe('checkReadRange', () => {
  it('defaults to the whole object', () => {
    expect(checkReadRange('transport-x', 'GET', 'x://h/p', {})).toEqual({ start: 0, end: Infinity });
    expect(checkReadRange('transport-x', 'GET', 'x://h/p', { start: 5, end: 5 })).toEqual({ start: 5, end: 5 });
  });

  it('refuses a negative, fractional or reversed range with a RangeError naming the read', () => {
    expect(() => checkReadRange('transport-x', 'GET', 'x://h/p', { start: -1 })).toThrow(new RangeError('[transport-x] GET x://h/p: start must be a non-negative integer, got -1'));
    expect(() => checkReadRange('transport-x', 'GET', 'x://h/p', { start: 1.5 })).toThrow(RangeError);
    expect(() => checkReadRange('transport-x', 'GET', 'x://h/p', { start: 4, end: 3 })).toThrow('end must be an integer >= start, got 3');
  });
});
