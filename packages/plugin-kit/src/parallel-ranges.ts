import { Readable } from 'node:stream';

export interface ParallelRangesOptions {
  /** First byte of the read. */
  start: number;
  /** One past its last byte. */
  end: number;
  /** Bytes per range. */
  rangeSize: number;
  /** Ranges fetched at once; the bytes held are at most rangesInFlight × rangeSize. */
  rangesInFlight: number;
  /**
   * Fetch `[start, end)`, handing each piece to `onChunk` in order, and resolve once all of it was
   * handed on (retrying and resuming as the transport does); `signal` fires when the stream is
   * destroyed. A rejection fails the stream when this range's turn comes, through `failure`.
   */
  fetchRange(start: number, end: number, onChunk: (chunk: Buffer) => void, signal: AbortSignal): Promise<void>;
  /** The coded error for a range that failed. */
  failure(error: unknown): Error;
  /** Each chunk as it leaves, in order (a checksum of the whole read). */
  onDeliver?(chunk: Buffer): void;
  /** After the last chunk: an error here fails the stream instead of ending it (a checksum mismatch). */
  beforeEnd?(): Error | undefined;
}

/** One range being fetched: its bytes so far, not yet handed on. */
interface RangeTask {
  chunks: Buffer[];
  done: boolean;
  failed: Error | undefined;
}

/**
 * A read of `[start, end)` as consecutive ranges of `rangeSize`, up to `rangesInFlight` fetched at
 * once and handed on in order: what keeps a long or per-connection-throttled link busy (S3,
 * HTTP servers with byte ranges). A range ahead of the one being handed on is held in memory, so
 * memory is bounded by rangesInFlight × rangeSize, and a new range starts only once the first has
 * been handed on whole: a consumer that stops reading stops the fetching.
 */
export function parallelRanges(options: ParallelRangesOptions): Readable {
  const { end, rangeSize, rangesInFlight } = options;
  const requests = new AbortController();
  const window: RangeTask[] = [];
  let nextStart = options.start;
  let wanting = false;
  let ended = false;

  function fill(): void {
    while (window.length < rangesInFlight && nextStart < end) {
      const task: RangeTask = { chunks: [], done: false, failed: undefined };
      const rangeEnd = Math.min(end, nextStart + rangeSize);
      const onChunk = (chunk: Buffer): void => {
        task.chunks.push(chunk);
        if (task === window[0]) deliver();
      };
      window.push(task);
      options.fetchRange(nextStart, rangeEnd, onChunk, requests.signal).then(
        () => {
          task.done = true;
          if (task === window[0]) deliver();
        },
        (error: unknown) => {
          task.failed = options.failure(error);
          if (task === window[0]) deliver();
        },
      );
      nextStart = rangeEnd;
    }
  }

  /** Hand on what the head of the window has, while the consumer wants more. */
  function deliver(): void {
    while (wanting && !stream.destroyed) {
      const head = window[0];
      if (head === undefined) {
        finish();
        return;
      }
      if (head.failed !== undefined) {
        stream.destroy(head.failed);
        return;
      }
      const chunk = head.chunks.shift();
      if (chunk !== undefined) {
        options.onDeliver?.(chunk);
        wanting = stream.push(chunk);
        continue;
      }
      if (!head.done) return;
      window.shift();
      fill();
    }
  }

  function finish(): void {
    if (ended) return;
    ended = true;
    wanting = false;
    const failed = options.beforeEnd?.();
    if (failed !== undefined) stream.destroy(failed);
    else stream.push(null);
  }

  const stream = new Readable({
    read() {
      wanting = true;
      fill();
      deliver();
    },
    destroy(error, callback) {
      requests.abort(error ?? new Error('the read stream was destroyed'));
      window.length = 0;
      callback(error);
    },
  });
  return stream;
}
