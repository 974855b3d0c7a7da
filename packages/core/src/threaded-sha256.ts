import { Worker } from 'node:worker_threads';

/**
 * SHA-256 on a worker thread, for any number of inputs at once (a signed import's archive and the
 * file it is writing), each fed with copies of its bytes in 1 MiB batches. One thread per
 * operation, not one per input: every thread is a V8 isolate of its own (~9 MiB of resident
 * memory, plus its batches), and two of them put a signed 1 GiB import at 131-133 MiB peak RSS
 * against 124 with one.
 *
 * Why a thread: hashing runs at ~1.7 GB/s with SHA-NI, yet on the main thread it is the largest
 * single cost of a 1 GiB transfer (0.5 s of the 1.5 s of a local tar import, 0.3 s of an FTP
 * export) and it runs in series with the tar parser, the socket and the file writes. On its own
 * thread it overlaps with them; the main thread only copies (a memcpy, ~0.1 s per GiB), so that
 * the chunk itself can go on down the pipeline untouched. Batch buffers are transferred to the
 * worker and back, never cloned, and reused: no allocation per batch.
 *
 * The worker starts with the first batch, so a thread that is never used costs nothing. It keeps
 * the process alive until `destroy()`: the owner must call it, whatever happened.
 *
 * Memory: each input's batch being filled plus at most {@link UNACKED_BYTES_PER_INPUT} per input
 * on their way to the worker; `update` returns a promise to wait on when that budget is spent.
 */

/** Bytes per message to the worker: few enough messages that their cost is nil. */
const BATCH_BYTES = 1024 * 1024;

/**
 * Bytes sent but not yet hashed, per input being hashed, before a writer has to wait. Per input:
 * with one budget for two, the archive and the file it is writing took turns to wait and the
 * thread sat idle half the time (signed 1 GiB import 2.13-2.18 s; 1.85-2.03 s with twice the
 * budget, 1.81-1.91 s on two threads at 11 MiB more peak RSS).
 */
const UNACKED_BYTES_PER_INPUT = 4 * BATCH_BYTES;

// CommonJS, evaluated as the worker's source: it needs nothing but node:crypto.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (message) => {
  let hash = hashes.get(message.id);
  if (hash === undefined) hashes.set(message.id, (hash = createHash('sha256')));
  if (message.buffer !== undefined) {
    hash.update(new Uint8Array(message.buffer, 0, message.length));
    parentPort.postMessage({ buffer: message.buffer, hashed: message.length }, [message.buffer]);
  }
  if (message.end) {
    hashes.delete(message.id);
    parentPort.postMessage({ id: message.id, digest: hash.digest('hex') });
  }
});
`;

interface WorkerAnswer {
  buffer?: ArrayBuffer;
  hashed?: number;
  id?: number;
  digest?: string;
}

/** One input hashed on a {@link Sha256Thread}. */
export interface ThreadedHash {
  /**
   * Adds `chunk` (copied: the caller keeps it). Resolves when the caller may send more. Throws
   * at once if the thread has already failed.
   */
  update(chunk: Uint8Array): Promise<void> | undefined;
  /** The hex digest of everything added; call once, after the last update. */
  digest(): Promise<string>;
}

export class Sha256Thread {
  #worker: Worker | undefined;
  /** Batch buffers back from the worker, ready to be filled again. */
  readonly #free: ArrayBuffer[] = [];
  #unacked = 0;
  #waiters: (() => void)[] = [];
  /** Digests asked for and not yet given, by input. */
  readonly #pending = new Map<number, { resolve(digest: string): void; reject(error: Error): void }>();
  #nextId = 0;
  /** Inputs opened and not yet digested: the budget of bytes in flight grows with them. */
  #inputs = 0;
  #failed: Error | undefined;
  #destroyed = false;

  /** A new input to hash. */
  open(): ThreadedHash {
    const id = this.#nextId++;
    this.#inputs++;
    let batch: Uint8Array | undefined;
    let length = 0;
    return {
      update: (chunk) => {
        if (this.#failed) throw this.#failed;
        for (let offset = 0; offset < chunk.length; ) {
          batch ??= this.#takeBuffer();
          const taken = Math.min(BATCH_BYTES - length, chunk.length - offset);
          batch.set(chunk.subarray(offset, offset + taken), length);
          length += taken;
          offset += taken;
          if (length === BATCH_BYTES) {
            this.#send({ id, buffer: batch.buffer as ArrayBuffer, length });
            batch = undefined;
            length = 0;
          }
        }
        return this.#room();
      },
      digest: () => {
        this.#inputs--;
        if (this.#failed) return Promise.reject(this.#failed);
        const result = new Promise<string>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
        this.#send(batch === undefined ? { id, end: true } : { id, buffer: batch.buffer as ArrayBuffer, length, end: true });
        batch = undefined;
        return result;
      },
    };
  }

  /** Stops the worker; a digest not yet given never comes. Safe to call more than once. */
  destroy(): void {
    this.#destroyed = true;
    void this.#worker?.terminate();
  }

  #takeBuffer(): Uint8Array {
    return new Uint8Array(this.#free.pop() ?? new ArrayBuffer(BATCH_BYTES));
  }

  #budget(): number {
    return Math.max(1, this.#inputs) * UNACKED_BYTES_PER_INPUT;
  }

  #room(): Promise<void> | undefined {
    if (this.#unacked < this.#budget()) return undefined;
    return new Promise<void>((resolve) => this.#waiters.push(resolve)).then(() => {
      if (this.#failed) throw this.#failed;
    });
  }

  #send(message: { id: number; buffer?: ArrayBuffer; length?: number; end?: boolean }): void {
    this.#unacked += message.length ?? 0;
    this.#started().postMessage(message, message.buffer ? [message.buffer] : []);
  }

  #started(): Worker {
    if (this.#worker) return this.#worker;
    if (this.#destroyed) throw new Error('the SHA-256 thread was destroyed');
    // A small young generation: the worker allocates nothing but views of the batches it gets.
    const worker = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 2 } });
    worker.on('message', (message: WorkerAnswer) => this.#onAnswer(message));
    worker.on('error', (error) => this.#fail(error));
    worker.on('exit', (code) => this.#fail(new Error(`the SHA-256 worker thread exited (code ${code}) before it gave the digest`)));
    this.#worker = worker;
    return worker;
  }

  #onAnswer(message: WorkerAnswer): void {
    if (message.buffer) this.#free.push(message.buffer);
    this.#unacked -= message.hashed ?? 0;
    if (this.#unacked < this.#budget()) this.#wake();
    if (message.digest !== undefined && message.id !== undefined) {
      this.#pending.get(message.id)?.resolve(message.digest);
      this.#pending.delete(message.id);
    }
  }

  #fail(error: Error): void {
    this.#failed ??= error;
    for (const waiting of this.#pending.values()) waiting.reject(this.#failed);
    this.#pending.clear();
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
