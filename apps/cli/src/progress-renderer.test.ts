import { describe, expect, it } from 'vitest';
import { barLine } from './progress-renderer.js';
import { formatDuration, transferRate } from './transfer-rate.js';

describe('barLine', () => {
  it('names the operation and the item, and shows percent, sizes, rate and ETA', () => {
    const { text } = barLine({ operation: 'push', label: 'model iris:v1', done: 50 * 2 ** 20, total: 100 * 2 ** 20, rate: 10e6 }, 100);
    expect(text).toBe('push model iris:v1 ████████████░░░░░░░░░░░░  50%  50.00/100.00 MiB  10.0 MB/s  ETA 0:05');
  });

  it('never shows more done than total', () => {
    const { text } = barLine({ operation: 'pull', label: 'bento svc:v1', done: 130, total: 100, rate: undefined }, 100);
    expect(text).toContain('100%  100.00/100.00 B');
  });

  it('keeps the numbers on a narrow terminal: the bar narrows, then the label is cut', () => {
    const { text } = barLine({ operation: 'push', label: 'model a-rather-long-model-name:u432a5xip2dc6ax4', done: 1, total: 4, rate: 1e6 }, 60);
    expect(text.length).toBeLessThanOrEqual(59);
    expect(text).toMatch(/^push mod.*… █{3}░{7} {2}25% {2}1\.00\/4\.00 B {2}1\.0 MB\/s {2}ETA 0:00$/);
  });
});

describe('transferRate', () => {
  it('follows a change of speed over seconds, not at once', () => {
    const rate = transferRate({ timeConstantSeconds: 3, minimumIntervalMs: 250 });
    let bytes = 0;
    for (let at = 0; at <= 10_000; at += 500) rate.sample((bytes += 5e6), at);
    expect(rate.bytesPerSecond).toBeCloseTo(10e6, -3);
    rate.sample((bytes += 1e6), 10_500);
    // One slow half-second moves the estimate part of the way only.
    expect(rate.bytesPerSecond).toBeGreaterThan(6e6);
    expect(rate.bytesPerSecond).toBeLessThan(10e6);
  });

  it('formats what is left as pip does', () => {
    expect(formatDuration(65)).toBe('1:05');
    expect(formatDuration(3 * 3600 + 3)).toBe('3:00:03');
  });
});
