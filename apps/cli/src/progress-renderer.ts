import type { ProgressEvent, ProgressListener } from '@bentoport/core';
import { humanSize } from './render.js';
import { formatDuration, transferRate, type TransferRate } from './transfer-rate.js';

/** How progress reaches the user: a redrawn bar, JSON lines, or not at all. */
export type ProgressMode = 'bar' | 'json' | 'none';

export interface ProgressRendererOptions {
  /** Where everything goes (stderr). */
  stream: NodeJS.WritableStream & { columns?: number };
  mode: ProgressMode;
  /** Drop warnings and notices too. */
  quiet: boolean;
  /** Use ANSI colours (only when the stream is a terminal). */
  color: boolean;
  /** The clock, in milliseconds. @default Date.now */
  now?: () => number;
}

export interface ProgressRenderer {
  listener: ProgressListener;
  /** Remove the bar (call before printing the result). */
  finish(): void;
}

/** What one bar shows: the operation, what moves, and how far it got. */
export interface BarState {
  operation: string;
  /** `model iris:v1`, or the phase when no item was named. */
  label: string;
  done: number;
  total: number | undefined;
  /** Smoothed bytes per second, when known. */
  rate: number | undefined;
}

/** At most ~10 redraws a second. */
const REDRAW_INTERVAL_MS = 100;
const BAR_WIDTH = 24;
const MIN_BAR_WIDTH = 10;
const CLEAR_LINE = '\r\u001b[2K';

/** Megabytes per second, as rclone and pip print them. */
function rateText(rate: number | undefined): string {
  return rate === undefined ? '' : `${(rate / 1e6).toFixed(1)} MB/s`;
}

/** `3.40/8.05 MiB`: both in the total's unit, as pip prints them, so the line stays short. */
function sizesText(done: number, total: number): string {
  const [amount = '0', unit = 'B'] = humanSize(total).split(' ');
  const scale = total / Number(amount) || 1;
  return `${(done / scale).toFixed(2)}/${amount} ${unit}`;
}

/** `text` cut to `width` characters, with `…` when cut. */
function fitted(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 1 ? text.slice(0, Math.max(0, width)) : `${text.slice(0, width - 1)}…`;
}

/**
 * One bar line of at most `columns - 1` characters:
 * `push model iris:v1 ████░░░░  42%  3.40/8.05 MiB  5.2 MB/s  ETA 0:03`. The numbers always
 * show; the bar narrows, then the label is cut, on a narrow terminal. Done is clamped to the
 * total: a bar that claims more than everything is lying.
 */
export function barLine(state: BarState, columns = 80): { text: string; bar: string } {
  const { operation, label, total, rate } = state;
  const width = Math.max(20, columns - 1);
  const head = `${operation} ${label}`.trimEnd();
  if (total === undefined || total <= 0) {
    const tail = `  ${humanSize(state.done)}  ${rateText(rate)}`.trimEnd();
    return { text: `${fitted(head, width - tail.length)}${tail}`, bar: '' };
  }
  const done = Math.min(state.done, total);
  const fraction = done / total;
  const eta = rate !== undefined && rate > 0 && done < total ? `  ETA ${formatDuration((total - done) / rate)}` : '';
  const tail = ` ${String(Math.floor(fraction * 100)).padStart(3)}%  ${sizesText(done, total)}  ${rateText(rate)}${eta}`.trimEnd();
  const room = width - tail.length - 1;
  const barWidth = Math.max(MIN_BAR_WIDTH, Math.min(BAR_WIDTH, room - head.length));
  const filled = Math.round(fraction * barWidth);
  const bar = '█'.repeat(filled) + '░'.repeat(barWidth - filled);
  return { text: `${fitted(head, room - barWidth)} ${bar}${tail}`, bar };
}

export function createProgressRenderer(options: ProgressRendererOptions): ProgressRenderer {
  const { stream, mode, quiet, color } = options;
  const now = options.now ?? Date.now;
  const paint = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  let phase = '';
  let item: string | undefined;
  let operation = '';
  let rate: TransferRate = transferRate();
  let lastDraw = 0;
  let drawn = false;

  const clear = () => {
    if (drawn) stream.write(CLEAR_LINE);
    drawn = false;
  };

  const draw = (done: number, total: number | undefined) => {
    const at = now();
    rate.sample(done, at);
    if (at - lastDraw < REDRAW_INTERVAL_MS && !(total !== undefined && done >= total)) return;
    lastDraw = at;
    const columns = stream.columns && stream.columns > 0 ? stream.columns : 80;
    // Fitted to the width first, then coloured, so an escape sequence is never cut.
    const { text, bar } = barLine({ operation, label: item ?? phase, done, total, rate: rate.bytesPerSecond }, columns);
    stream.write(CLEAR_LINE + (bar ? text.replace(bar, paint('36', bar)) : text));
    drawn = true;
  };

  const onEvent = (event: ProgressEvent) => {
    switch (event.type) {
      case 'phase':
        if (event.operation !== operation) rate = transferRate();
        operation = event.operation;
        phase = event.phase;
        if (event.item !== undefined) item = event.item;
        return;
      case 'bytes':
        operation = event.operation;
        if (event.item !== undefined) item = event.item;
        // A sync's line covers every item: say how many are done.
        if (event.itemsTotal !== undefined) item = `${event.item ?? ''} (${event.itemsDone ?? 0}/${event.itemsTotal} items)`.trimStart();
        if (mode === 'bar' && !quiet) draw(event.bytesDone, event.bytesTotal);
        return;
      case 'warning':
        if (quiet) return;
        clear();
        // A retry line stands alone (`retrying … (attempt 2/4, next in 2 s): ECONNRESET`), as rclone and pip print them.
        stream.write(event.retry ? `${paint('33', event.message)}\n` : `${paint('33', 'Warning:')} ${event.message}\n`);
        return;
      case 'notice':
        if (quiet) return;
        clear();
        stream.write(`${event.message}\n`);
        return;
    }
  };

  const listener: ProgressListener = (event) => {
    if (mode === 'json') {
      if (!quiet) stream.write(`${JSON.stringify(event)}\n`);
      return;
    }
    onEvent(event);
  };

  return { listener, finish: clear };
}
