import { Worker } from 'node:worker_threads';

/**
 * SHA-256 on a worker thread, fed with copies of the bytes in 1 MiB batches. The worker keeps the
 * process alive until `digest()` has answered or `destroy()` is called: a caller must do one.
 *
 * Why: hashing runs at ~2 GB/s with SHA-NI, yet on the main thread it is the largest single cost
 * of a 1 GiB transfer (0.5 s of the 1.5 s of a local tar import, 0.3 s of an FTP export) and it
 * runs in series with the tar parser, the socket and the file writes. On its own thread it
 * overlaps with them; the main thread only copies (a memcpy, ~0.1 s per GiB), so that the chunk
 * itself can go on down the pipeline untouched. Batch buffers are transferred to the worker and
 * back, never cloned, and reused: no allocation per batch.
 *
 * Memory: one batch being filled plus at most {@link MAX_UNACKED_BYTES} on their way to the
 * worker; `update` returns a promise to wait on when that budget is spent.
 */

/** Bytes per message to the worker: few enough messages that their cost is nil. */
const BATCH_BYTES = 1024 * 1024;

/** Bytes sent but not yet hashed before the writer has to wait. */
const MAX_UNACKED_BYTES = 4 * BATCH_BYTES;

// CommonJS, evaluated as the worker's source: it needs nothing but node:crypto.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
let hash = createHash('sha256');
parentPort.on('message', (message) => {
  if (message === 'end') {
    parentPort.postMessage({ digest: hash.digest('hex') });
    hash = createHash('sha256');
    return;
  }
  hash.update(new Uint8Array(message.buffer, 0, message.length));
  parentPort.postMessage({ buffer: message.buffer, hashed: message.length }, [message.buffer]);
});
`;

/** Options of {@link ThreadedSha256}. */
export interface ThreadedSha256Options {
  /**
   * Keep the thread after a digest, for the next input: each `digest()` then ends one input and
   * the updates after it start the next (the files of an export, one after another). The caller
   * must `destroy()` it. @default false (the thread ends with the first digest)
   */
  reusable?: boolean;
}

export class ThreadedSha256 {
  readonly #worker: Worker;
  readonly #reusable: boolean;
  #batch = new Uint8Array(BATCH_BYTES);
  #batchLength = 0;
  /** Batch buffers back from the worker, ready to be filled again. */
  #free: ArrayBuffer[] = [];
  #unacked = 0;
  #waiters: (() => void)[] = [];
  /** Digests asked for and not yet given, in the order asked (the worker answers in order). */
  #pending: { resolve(digest: string): void; reject(error: Error): void }[] = [];
  #failed: Error | undefined;

  constructor(options: ThreadedSha256Options = {}) {
    this.#reusable = options.reusable ?? false;
    // A small young generation: the worker allocates nothing but views of the batches it gets.
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 2 } });
    this.#worker.on('message', (message: { buffer?: ArrayBuffer; hashed?: number; digest?: string }) => {
      if (message.digest !== undefined) {
        this.#pending.shift()?.resolve(message.digest);
        if (!this.#reusable) void this.#worker.terminate();
        return;
      }
      if (message.buffer) this.#free.push(message.buffer);
      this.#unacked -= message.hashed ?? 0;
      if (this.#unacked < MAX_UNACKED_BYTES) this.#wake();
    });
    const fail = (error: Error): void => {
      this.#failed ??= error;
      for (const waiting of this.#pending.splice(0)) waiting.reject(error);
      this.#wake();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`the SHA-256 worker thread exited (code ${code}) before it gave the digest`)));
  }

  /**
   * Adds `chunk` (copied: the caller keeps it). Resolves when the caller may send more. Throws
   * at once if the worker has already failed.
   */
  update(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#failed) throw this.#failed;
    let offset = 0;
    while (offset < chunk.length) {
      const taken = Math.min(BATCH_BYTES - this.#batchLength, chunk.length - offset);
      this.#batch.set(chunk.subarray(offset, offset + taken), this.#batchLength);
      this.#batchLength += taken;
      offset += taken;
      if (this.#batchLength === BATCH_BYTES) this.#send();
    }
    if (this.#unacked < MAX_UNACKED_BYTES) return undefined;
    return new Promise<void>((resolve) => this.#waiters.push(resolve)).then(() => {
      if (this.#failed) throw this.#failed;
    });
  }

  /**
   * The hex digest of everything added since the last digest; without `reusable`, call once,
   * after the last update.
   */
  digest(): Promise<string> {
    if (this.#failed) return Promise.reject(this.#failed);
    const result = new Promise<string>((resolve, reject) => this.#pending.push({ resolve, reject }));
    if (this.#batchLength > 0) this.#send(this.#reusable);
    this.#worker.postMessage('end');
    return result;
  }

  /** Stops the worker; a digest not yet given never comes. */
  destroy(): void {
    void this.#worker.terminate();
  }

  #send(more = true): void {
    const { buffer } = this.#batch;
    this.#unacked += this.#batchLength;
    this.#worker.postMessage({ buffer, length: this.#batchLength }, [buffer]);
    if (more) this.#batch = new Uint8Array(this.#free.pop() ?? new ArrayBuffer(BATCH_BYTES));
    this.#batchLength = 0;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
