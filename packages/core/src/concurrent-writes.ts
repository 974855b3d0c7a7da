/**
 * The file writes an extraction lets run while it goes on to the next entries: those of entries
 * with an `independentBody` (a large zip body with its own ranged read). At most `limit` run at
 * once; the first failure is kept and rethrown, and every write has settled before `finish()` or
 * `abandon()` returns, so the caller never removes a staging directory under an open file.
 */
export class ConcurrentWrites {
  readonly #running = new Set<Promise<void>>();
  readonly #controller = new AbortController();
  #failure: { error: unknown } | undefined;

  /**
   * @param limit Writes running at once; `waitForRoom` waits while this many run.
   * @param signal The extraction's signal: aborting it aborts every write.
   */
  constructor(
    private readonly limit: number,
    signal: AbortSignal | undefined,
  ) {
    if (!(limit >= 1)) throw new RangeError(`limit must be at least 1, got ${String(limit)}`);
    this.signal = signal === undefined ? this.#controller.signal : AbortSignal.any([signal, this.#controller.signal]);
  }

  /** What each write must honour: aborted with the extraction's signal, or when one write failed or the extraction gave up. */
  readonly signal: AbortSignal;

  /**
   * Resolves once fewer than `limit` writes run, so that the next `run` keeps within it; throws
   * the first failure instead, if one came first. Call it before acquiring what the write will
   * own (its open file), so that nothing is left to release when it throws.
   */
  async waitForRoom(): Promise<void> {
    while (this.#running.size >= this.limit) {
      this.throwIfFailed();
      await Promise.race(this.#running);
    }
    this.throwIfFailed();
  }

  /**
   * Runs `write` alongside the extraction, from now on: call it right after `waitForRoom`. A
   * write that fails aborts the others; its error comes out of the next `throwIfFailed`,
   * `waitForRoom` or `finish`.
   */
  run(write: (signal: AbortSignal) => Promise<void>): void {
    const running: Promise<void> = write(this.signal).then(
      () => void this.#running.delete(running),
      (error: unknown) => {
        this.#running.delete(running);
        this.#failure ??= { error };
        this.#controller.abort(error);
      },
    );
    this.#running.add(running);
  }

  /**
   * Lets the running writes take their turn. Why: the extraction's synchronous small-file writes
   * and the promises of a decoder whose bytes are at hand run without ever returning to the event
   * loop, so a running write's inflate and disk callbacks waited until the end: a 1 GiB weight
   * file beside 10,000 small ones took the whole 9.5 s of the import instead of overlapping it.
   */
  async yieldToWrites(): Promise<void> {
    if (this.#running.size > 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Throws the first failed write's error, if one failed. */
  throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  /** Waits for every write; throws the first failure. */
  async finish(): Promise<void> {
    await this.#settled();
    this.throwIfFailed();
  }

  /**
   * After the extraction failed with `error`: aborts the writes still running and waits for them.
   * Returns the error to throw: a write's failure that came first wins over the abort it caused.
   */
  async abandon(error: unknown): Promise<unknown> {
    const earlier = this.#failure;
    this.#controller.abort(error);
    await this.#settled();
    return earlier !== undefined ? earlier.error : error;
  }

  /** Resolves once no write runs (each running promise settles without rejecting). */
  async #settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running);
  }
}
