import type { Readable } from 'node:stream';
import { throwIfAborted, toBentoportError } from '@bentoport/plugin-kit';
import { corrupt } from './zip-failures.js';

/**
 * Reads a random-access archive mostly sequentially: it keeps one ranged read open and serves
 * successive requests from it, skipping small gaps by discarding bytes and opening a new ranged
 * read only for a backward jump or a large gap. A zip whose central directory lists entries in
 * file order (every normal zip) is thus read with one ranged request for all entries, which
 * matters when each request is an HTTP round trip.
 *
 * One operation at a time; `idle()` resolves when the current one has finished.
 */

/** Gaps up to this size are read and discarded rather than paid for with a new request. */
const SKIP_LIMIT = 1024 * 1024;

export type RangeReader = (start: number, end: number) => Readable;

export class RangeCursor {
  private iterator: AsyncIterator<Buffer | string> | undefined;
  private stream: Readable | undefined;
  /** Absolute position of the next byte the open ranged read delivers (after `leftover`). */
  private streamPosition = 0;
  private streamEnd = 0;
  private leftover: Buffer = Buffer.alloc(0);
  private busy: Promise<void> = Promise.resolve();
  private release: (() => void) | undefined;
  /** Ends the open ranged read when the signal fires: a read that stalls would otherwise never notice. */
  private readonly onAbort = (): void => this.close();

  constructor(
    private readonly readRange: RangeReader,
    /** Ranged reads opened by the cursor end here (the start of the central directory, or the archive size). */
    private readonly windowEnd: number,
    private readonly archiveSize: number,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** Resolves once no read or body stream is using the cursor. */
  idle(): Promise<void> {
    return this.busy;
  }

  /** Exactly `length` bytes at `position`. */
  async read(position: number, length: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this.chunks(position, length)) parts.push(chunk);
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, length);
  }

  /** Exactly `length` bytes at `position`, as they arrive; ERR_CORRUPT_ARCHIVE if the archive ends first. */
  async *chunks(position: number, length: number): AsyncGenerator<Buffer> {
    await this.acquire();
    try {
      if (position + length > this.archiveSize) {
        throw corrupt(`bytes ${position}..${position + length} lie beyond the end of the archive (${this.archiveSize} bytes); it is truncated or damaged`);
      }
      if (length === 0) return;
      await this.seek(position, position + length);
      let remaining = length;
      while (remaining > 0) {
        const chunk = await this.next();
        const take = Math.min(remaining, chunk.length);
        if (take < chunk.length) this.leftover = chunk.subarray(take);
        this.streamPosition += take;
        remaining -= take;
        yield take === chunk.length ? chunk : chunk.subarray(0, take);
      }
    } finally {
      this.releaseLock();
    }
  }

  /** Ends the open ranged read. */
  close(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    this.stream?.destroy();
    this.stream = undefined;
    this.iterator = undefined;
    this.leftover = Buffer.alloc(0);
  }

  private async acquire(): Promise<void> {
    // Callers never overlap (the reader waits for idle()), but chaining keeps a mistake from
    // interleaving two reads on one stream.
    const previous = this.busy;
    let release!: () => void;
    this.busy = new Promise<void>((resolve) => (release = resolve));
    await previous;
    this.release = release;
  }

  private releaseLock(): void {
    const release = this.release;
    this.release = undefined;
    release?.();
  }

  private async seek(position: number, needEnd: number): Promise<void> {
    const reusable =
      this.stream !== undefined &&
      position >= this.streamPosition &&
      position - this.streamPosition <= SKIP_LIMIT &&
      needEnd <= this.streamEnd;
    if (reusable) {
      while (this.streamPosition < position) {
        const chunk = await this.next();
        const skip = Math.min(position - this.streamPosition, chunk.length);
        if (skip < chunk.length) this.leftover = chunk.subarray(skip);
        this.streamPosition += skip;
      }
      return;
    }
    this.close();
    const end = needEnd <= this.windowEnd ? this.windowEnd : this.archiveSize;
    try {
      this.stream = this.readRange(position, end);
    } catch (error) {
      throw toBentoportError(error, 'format-zip', 'read zip', `bytes ${position}..${end}`);
    }
    this.iterator = (this.stream as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
    this.streamPosition = position;
    this.streamEnd = end;
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The next non-empty chunk of the open ranged read. */
  private async next(): Promise<Buffer> {
    throwIfAborted(this.signal, 'format-zip', 'read', 'zip');
    if (this.leftover.length > 0) {
      const chunk = this.leftover;
      this.leftover = Buffer.alloc(0);
      return chunk;
    }
    const iterator = this.iterator;
    if (iterator === undefined) throw new Error('RangeCursor: no open ranged read');
    while (true) {
      let result: IteratorResult<Buffer | string>;
      try {
        result = await iterator.next();
      } catch (error) {
        this.close();
        throwIfAborted(this.signal, 'format-zip', 'read', 'zip');
        throw toBentoportError(error, 'format-zip', 'read zip', `bytes from ${this.streamPosition}`);
      }
      // An abort closes the ranged read, which looks like an early end: report the abort instead.
      throwIfAborted(this.signal, 'format-zip', 'read', 'zip');
      if (result.done) {
        this.close();
        throw corrupt(`the archive ended at byte ${this.streamPosition}, before the data its directory describes; it is truncated`);
      }
      const chunk = typeof result.value === 'string' ? Buffer.from(result.value) : result.value;
      if (chunk.length > 0) return chunk;
    }
  }
}
