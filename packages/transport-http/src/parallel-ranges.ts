import { Readable } from 'node:stream';

export interface ParallelRangeSettings {
  /** Bytes per ranged GET. */
  rangeSize: number;
  /** Ranged GETs in flight at once; the bytes held are at most rangesInFlight × rangeSize. */
  rangesInFlight: number;
  /** The error for a range that delivered fewer bytes than asked for (the resource shrank). */
  shortRange(start: number, end: number, received: number): Error;
}

/** One range being fetched: its bytes so far, not yet handed on. */
interface RangeTask {
  start: number;
  end: number;
  chunks: Buffer[];
  received: number;
  done: boolean;
  failed: Error | undefined;
  reader: Readable | undefined;
}

/**
 * `[start, end)` as consecutive ranges of `rangeSize`, up to `rangesInFlight` fetched at once and
 * handed on in order. `openRange` opens one range (a resumable reader pinned to one version of
 * the resource, so ranges of two versions are never joined); a range ahead of the one being
 * handed on is read into memory, so at most rangesInFlight × rangeSize bytes are held. A new
 * range starts only when the first one has been handed on whole: a slow consumer holds the rest.
 */
export function parallelRanges(start: number, end: number, settings: ParallelRangeSettings, openRange: (start: number, end: number) => Promise<Readable>): Readable {
  const window: RangeTask[] = [];
  let nextStart = start;
  let wanting = false;

  async function fetchRange(task: RangeTask): Promise<void> {
    const reader = await openRange(task.start, task.end);
    task.reader = reader;
    if (stream.destroyed) {
      reader.destroy();
      return;
    }
    for await (const chunk of reader as AsyncIterable<Buffer>) {
      task.chunks.push(chunk);
      task.received += chunk.length;
      if (task === window[0]) deliver();
    }
    if (task.received !== task.end - task.start) throw settings.shortRange(task.start, task.end, task.received);
  }

  function fill(): void {
    while (window.length < settings.rangesInFlight && nextStart < end) {
      const task: RangeTask = { start: nextStart, end: Math.min(end, nextStart + settings.rangeSize), chunks: [], received: 0, done: false, failed: undefined, reader: undefined };
      nextStart = task.end;
      window.push(task);
      fetchRange(task).then(
        () => {
          task.done = true;
          if (task === window[0]) deliver();
        },
        (error: unknown) => {
          task.failed = error instanceof Error ? error : new Error(String(error));
          if (task === window[0]) deliver();
        },
      );
    }
  }

  /** Hand on what the head of the window has, while the consumer wants more. */
  function deliver(): void {
    while (wanting && !stream.destroyed) {
      const head = window[0];
      if (head === undefined) {
        wanting = false;
        stream.push(null);
        return;
      }
      if (head.failed !== undefined) {
        stream.destroy(head.failed);
        return;
      }
      const chunk = head.chunks.shift();
      if (chunk !== undefined) {
        wanting = stream.push(chunk);
        continue;
      }
      if (!head.done) return;
      window.shift();
      fill();
    }
  }

  const stream = new Readable({
    read() {
      wanting = true;
      fill();
      deliver();
    },
    destroy(error, callback) {
      for (const task of window.splice(0)) task.reader?.destroy();
      callback(error);
    },
  });
  return stream;
}
