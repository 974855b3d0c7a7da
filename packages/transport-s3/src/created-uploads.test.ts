import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_ALLOWANCE_MS, recordedWindow, windowDetails, writerUploads } from './created-uploads.js';

describe('writerUploads', () => {
  const window = { startedMs: 1_000_000_000, untilMs: 1_000_005_000, attempts: 2 };
  const listed = new Map<string, number | undefined>([
    ['ours', 1_000_004_000],
    ['lost-answer', 1_000_000_500],
    ['skewed', window.startedMs - CLOCK_SKEW_ALLOWANCE_MS + 1],
    ['too-early', window.startedMs - CLOCK_SKEW_ALLOWANCE_MS - 1],
    ['too-late', window.untilMs + CLOCK_SKEW_ALLOWANCE_MS + 1],
    ['live-writer', 1_000_001_000],
    ['no-time', undefined],
  ]);

  it('after a retried create: its id and every unclaimed upload initiated in the window widened by the clock skew allowance', () => {
    expect(writerUploads({ uploadId: 'ours', window }, listed, new Set(['live-writer'])).sort()).toEqual(['lost-answer', 'ours', 'skewed']);
  });

  it('with no answer at all: the uploads of the window', () => {
    expect(writerUploads({ uploadId: '', window: { ...window, attempts: 1 } }, listed, new Set()).sort()).toEqual(['live-writer', 'lost-answer', 'ours', 'skewed']);
  });

  it('after one create answered: only its id; without a window (an older record): only its id', () => {
    expect(writerUploads({ uploadId: 'ours', window: { ...window, attempts: 1 } }, listed, new Set())).toEqual(['ours']);
    expect(writerUploads({ uploadId: 'ours', window: undefined }, listed, new Set())).toEqual(['ours']);
  });

  it('reads back the window it writes, and none from a record without one', () => {
    expect(recordedWindow(windowDetails(window))).toEqual(window);
    expect(recordedWindow({ resume: 'false' })).toBeUndefined();
  });
});
