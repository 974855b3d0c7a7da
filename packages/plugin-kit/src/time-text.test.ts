import { describe, expect, it } from 'vitest';
import { timeMicroseconds } from './time-text.js';

const BASE = Date.UTC(2025, 0, 2, 3, 4, 5) * 1000;

describe('timeMicroseconds', () => {
  it('keeps the microseconds of ISO-8601 and of BentoCloud times', () => {
    expect(timeMicroseconds('2025-01-02T03:04:05.678901Z')).toBe(BASE + 678_901);
    expect(timeMicroseconds('2025-01-02 03:04:05.678901')).toBe(BASE + 678_901);
    expect(timeMicroseconds('2025-01-02T03:04:05Z')).toBe(BASE);
    expect(timeMicroseconds('2025-01-02T03:04:05.5')).toBe(BASE + 500_000);
  });

  it('applies an offset and reads a time without one as UTC', () => {
    expect(timeMicroseconds('2025-01-02T05:04:05.000001+02:00')).toBe(BASE + 1);
    expect(timeMicroseconds('2025-01-02T05:04:05.000001+0200')).toBe(BASE + 1);
    expect(timeMicroseconds('2025-01-02T03:04:05')).toBe(BASE);
  });

  it('gives undefined for anything else', () => {
    for (const text of ['', 'yesterday', '2025-01-02', '2025-13-45T99:00:00Z']) expect(timeMicroseconds(text)).toBeUndefined();
  });
});
