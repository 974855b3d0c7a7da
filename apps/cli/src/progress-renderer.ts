import type { ProgressEvent, ProgressListener } from '@bentoport/core';
import { humanSize } from './render.js';

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
}

export interface ProgressRenderer {
  listener: ProgressListener;
  /** Remove the bar (call before printing the result). */
  finish(): void;
}

/** At most ~10 redraws a second. */
const REDRAW_INTERVAL_MS = 100;
const BAR_WIDTH = 24;
const CLEAR_LINE = '\r\u001b[2K';

export function createProgressRenderer(options: ProgressRendererOptions): ProgressRenderer {
  const { stream, mode, quiet, color } = options;
  const paint = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  let phase = '';
  let operation = '';
  let started: number | undefined;
  let lastDraw = 0;
  let drawn = false;

  const clear = () => {
    if (drawn) stream.write(CLEAR_LINE);
    drawn = false;
  };

  const draw = (done: number, total: number | undefined) => {
    const now = Date.now();
    started ??= now;
    if (now - lastDraw < REDRAW_INTERVAL_MS) return;
    lastDraw = now;
    const seconds = (now - started) / 1000;
    const rate = seconds > 0 ? `${(done / 1e6 / seconds).toFixed(1)} MB/s` : '';
    let line: string;
    let bar = '';
    if (total !== undefined && total > 0) {
      const fraction = Math.min(1, done / total);
      const filled = Math.round(fraction * BAR_WIDTH);
      bar = '█'.repeat(filled) + '░'.repeat(BAR_WIDTH - filled);
      line = `${operation} ${bar} ${String(Math.floor(fraction * 100)).padStart(3)}%  ${humanSize(done)} / ${humanSize(total)}  ${rate}`;
    } else {
      line = `${operation} ${phase}  ${humanSize(done)}  ${rate}`;
    }
    // Truncate the visible text first, then colour it, so an escape sequence is never cut.
    const columns = stream.columns && stream.columns > 0 ? stream.columns : 80;
    const visible = line.slice(0, Math.max(10, columns - 1));
    stream.write(CLEAR_LINE + (bar && visible.includes(bar) ? visible.replace(bar, paint('36', bar)) : visible));
    drawn = true;
  };

  const listener: ProgressListener = (event: ProgressEvent) => {
    if (mode === 'json') {
      if (!quiet) stream.write(`${JSON.stringify(event)}\n`);
      return;
    }
    switch (event.type) {
      case 'phase':
        operation = event.operation;
        phase = event.phase;
        return;
      case 'bytes':
        operation = event.operation;
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

  return { listener, finish: clear };
}
