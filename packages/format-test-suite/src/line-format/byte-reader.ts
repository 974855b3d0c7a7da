import { createHash, type Hash } from 'node:crypto';

/**
 * Pulls bytes from a chunk iterator on demand, hashing every byte it hands out (the archive's
 * trailer carries a SHA-256 of everything before it). Each wait for the next chunk races the
 * signal, so a stalled source cannot outlive an abort.
 */
export class ByteReader {
  private buffered: Buffer = Buffer.alloc(0);
  private ended = false;
  private readonly hash: Hash = createHash('sha256');

  constructor(
    private readonly chunks: AsyncIterator<Uint8Array>,
    private readonly signal: AbortSignal | undefined,
    private readonly abortedError: () => Error,
  ) {}

  /** Hex SHA-256 of every byte handed out so far. */
  digest(): string {
    return this.hash.copy().digest('hex');
  }

  /** True once the source ended and nothing is buffered. */
  async atEnd(): Promise<boolean> {
    if (this.buffered.length === 0 && !this.ended) await this.fill();
    return this.buffered.length === 0;
  }

  /**
   * The next line without its `\n`, or undefined when the source ends first or the line would be
   * longer than `maxLength` (both mean a damaged archive to the caller).
   */
  async readLine(maxLength: number): Promise<Buffer | undefined> {
    for (;;) {
      const newline = this.buffered.indexOf(0x0a);
      if (newline !== -1 && newline <= maxLength) {
        const line = this.take(newline + 1);
        return line.subarray(0, newline);
      }
      if (this.buffered.length > maxLength || this.ended) return undefined;
      await this.fill();
    }
  }

  /** Up to `maxBytes` bytes (at least one), or undefined at the end of the source. */
  async readChunk(maxBytes: number): Promise<Buffer | undefined> {
    if (this.buffered.length === 0) await this.fill();
    if (this.buffered.length === 0) return undefined;
    return this.take(Math.min(maxBytes, this.buffered.length));
  }

  /** Consume exactly `length` bytes; false when the source ends first. */
  async skip(length: number): Promise<boolean> {
    let remaining = length;
    while (remaining > 0) {
      const chunk = await this.readChunk(remaining);
      if (chunk === undefined) return false;
      remaining -= chunk.length;
    }
    return true;
  }

  private take(length: number): Buffer {
    const taken = this.buffered.subarray(0, length);
    this.buffered = this.buffered.subarray(length);
    this.hash.update(taken);
    return taken;
  }

  private async fill(): Promise<void> {
    if (this.ended) return;
    const next = await this.nextUnlessAborted();
    if (next.done) {
      this.ended = true;
      return;
    }
    const chunk = Buffer.from(next.value);
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
  }

  /** The source's next chunk, or the abort error as soon as the signal fires (one listener per wait, removed after). */
  private nextUnlessAborted(): Promise<IteratorResult<Uint8Array>> {
    const { signal } = this;
    if (signal === undefined) return this.chunks.next();
    if (signal.aborted) return Promise.reject(this.abortedError());
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(this.abortedError());
      signal.addEventListener('abort', onAbort, { once: true });
      this.chunks.next().then(
        (result) => {
          signal.removeEventListener('abort', onAbort);
          resolve(result);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }
}
