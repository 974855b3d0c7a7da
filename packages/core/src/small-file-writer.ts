import fs from 'node:fs';
import { Worker } from 'node:worker_threads';

/**
 * Writes the small files of an extraction, in order, on a worker thread fed in batches, so that
 * creating them overlaps with decoding, hashing and checking the next entries on the main thread.
 *
 * Why: a small file costs the extractor little but the kernel much. Creating an inode takes
 * ext4 from ~10 µs to several hundred (it skips recently deleted inodes one by one, so a machine
 * that just removed thousands of files pays for each of them again), and on the main thread that
 * time adds to everything else; GNU tar pays it too, in series. Here the worker makes the
 * calls (open, write, fchmod, futimes, close: a few syscalls in a row, no thread-pool round trip
 * per call) while the main thread goes on. One message carries up to {@link BATCH_FILES} files.
 *
 * The first {@link INLINE_FILES} files are written on the calling thread, synchronously: an
 * archive of a few files (weights) never pays for starting a thread.
 *
 * Nothing is made durable per file, as tar and rsync do not either; the import is atomic by its
 * final rename into the store. Every write has finished (or failed) once {@link flush} resolves,
 * and {@link close} waits for the worker to stop, so a caller that removes the directory after
 * a failure leaves nothing behind.
 */

/** Files written inline before the worker is started. */
const INLINE_FILES = 64;
/** Files per message to the worker. */
const BATCH_FILES = 128;
/** Bytes per message to the worker (a batch is sent once it holds this much). */
const BATCH_BYTES = 256 * 1024;
/**
 * Bytes sent and not yet written before the caller has to wait: enough to keep the worker busy
 * while the main thread decodes, little enough to keep an import's peak memory where it was.
 */
const MAX_UNWRITTEN_BYTES = 4 * BATCH_BYTES;

/**
 * A batch as it travels: the files' bytes back to back, their paths joined by NUL (which no
 * extracted path holds: safe extraction refuses it), and three numbers per file (length, mode,
 * mtime). Flat, because cloning one object per file cost more than writing the file.
 */
interface Batch {
  data: Uint8Array;
  targets: string;
  facts: Float64Array;
}

/** An fs error as the worker reports it: enough to rebuild one the error mapping recognises. */
interface WriteFailure {
  message: string;
  code?: string;
  errno?: number;
  syscall?: string;
  path?: string;
}

/**
 * Creates each file exclusively (mode 0600 until its bytes are in), then gives it its mode and
 * mtime. The mode is not given to open(): the umask would cut the bits the archive holds.
 * Runs on the calling thread and, as source text, on the worker: it must use only its arguments.
 */
function writeFiles(fsModule: typeof fs, batch: Batch): void {
  const { data, facts } = batch;
  const targets = batch.targets.split('\0');
  let offset = 0;
  for (let index = 0; index < targets.length; index++) {
    const target = targets[index] as string;
    const length = facts[index * 3] as number;
    const descriptor = fsModule.openSync(target, 'wx', 0o600);
    try {
      // A regular file takes the whole buffer in one call; the loop covers the rare short write.
      for (let written = 0; written < length; ) {
        const count = fsModule.writeSync(descriptor, data, offset + written, length - written, written);
        if (count === 0) throw new Error(`writing ${target}: the file system took no bytes`);
        written += count;
      }
      fsModule.fchmodSync(descriptor, facts[index * 3 + 1] as number);
      const mtime = facts[index * 3 + 2] as number;
      fsModule.futimesSync(descriptor, mtime, mtime);
    } finally {
      fsModule.closeSync(descriptor);
    }
    offset += length;
  }
}

// CommonJS, evaluated as the worker's source. After a failure it writes nothing more: the
// extraction is over and its directory about to be removed.
const WORKER_SOURCE = `
const fs = require('node:fs');
const { parentPort } = require('node:worker_threads');
const writeFiles = ${writeFiles.toString()};
let failed = false;
parentPort.on('message', ({ data, length, targets, facts, bytes }) => {
  let failure;
  if (!failed) {
    try {
      writeFiles(fs, { data: new Uint8Array(data, 0, length), targets, facts: new Float64Array(facts) });
    } catch (error) {
      failed = true;
      const { message, code, errno, syscall, path } = error;
      failure = { message: String(message), code, errno, syscall, path };
    }
  }
  // The batch buffer goes back to be filled again: this thread allocates almost nothing, so
  // its garbage collector would rarely run to free buffers it kept.
  parentPort.postMessage({ bytes, data, failure }, [data]);
});
`;

function rebuiltError(failure: WriteFailure): Error {
  const { message, ...facts } = failure;
  return Object.assign(new Error(message), Object.fromEntries(Object.entries(facts).filter(([, value]) => value !== undefined)));
}

export class SmallFileWriter {
  #worker: Worker | undefined;
  #inlineLeft = INLINE_FILES;
  #chunks: Uint8Array[] = [];
  /** Batch buffers back from the worker, ready to be filled again. */
  #free: ArrayBuffer[] = [];
  #targets: string[] = [];
  #facts = new Float64Array(3 * BATCH_FILES);
  #batchBytes = 0;
  #unwritten = 0;
  #failed: Error | undefined;
  /** Wakes a caller waiting for room, or for every batch to be written. */
  #waiters: (() => void)[] = [];

  /**
   * Writes `data` to the new file `target` with `mode` and `mtime` (seconds), now or later.
   * Resolves when the caller may hand over more; throws the error of an earlier write, if any.
   */
  write(target: string, data: Uint8Array, mode: number, mtime: number): Promise<void> | undefined {
    if (this.#failed) throw this.#failed;
    if (this.#inlineLeft > 0) {
      this.#inlineLeft--;
      writeFiles(fs, { data, targets: target, facts: new Float64Array([data.length, mode, mtime]) });
      return undefined;
    }
    // A batch stays within one batch buffer, unless a single file is larger.
    if (this.#targets.length > 0 && this.#batchBytes + data.length > BATCH_BYTES) this.#send();
    const index = this.#targets.length;
    this.#facts.set([data.length, mode, mtime], index * 3);
    this.#targets.push(target);
    this.#chunks.push(data);
    this.#batchBytes += data.length;
    if (this.#targets.length >= BATCH_FILES || this.#batchBytes >= BATCH_BYTES) this.#send();
    if (this.#unwritten < MAX_UNWRITTEN_BYTES) return undefined;
    return this.#until(() => this.#unwritten < MAX_UNWRITTEN_BYTES);
  }

  /** Every file handed over is written. Throws the first write's error, if any. */
  async flush(): Promise<void> {
    if (this.#targets.length > 0) this.#send();
    await this.#until(() => this.#unwritten === 0);
  }

  /**
   * Waits for the writes under way, whatever their outcome, then stops the worker. Files not yet
   * sent are dropped: call after {@link flush}, or after a failure.
   */
  async close(): Promise<void> {
    this.#targets = [];
    this.#chunks = [];
    this.#batchBytes = 0;
    // After a failure the worker acknowledges the batches still queued without writing them.
    while (this.#unwritten > 0) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  #send(): void {
    // Copied into a buffer that owns its memory, so that it is moved to the worker and back
    // rather than cloned; the worker returns it and the next batch reuses it.
    const buffer = this.#batchBytes <= BATCH_BYTES ? (this.#free.pop() ?? new ArrayBuffer(BATCH_BYTES)) : new ArrayBuffer(this.#batchBytes);
    const data = new Uint8Array(buffer);
    let offset = 0;
    for (const chunk of this.#chunks) {
      data.set(chunk, offset);
      offset += chunk.length;
    }
    const bytes = this.#batchBytes + 1; // + 1: a batch of empty files still counts as unwritten
    this.#unwritten += bytes;
    const facts = this.#facts.slice(0, 3 * this.#targets.length);
    const message = { data: buffer, length: this.#batchBytes, targets: this.#targets.join('\0'), facts: facts.buffer, bytes };
    this.#started().postMessage(message, [buffer, facts.buffer]);
    this.#chunks = [];
    this.#targets = [];
    this.#batchBytes = 0;
  }

  #started(): Worker {
    if (this.#worker) return this.#worker;
    // A small young generation: the worker allocates little besides the views of its batches.
    const worker = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 2 } });
    worker.on('message', (message: { bytes: number; data: ArrayBuffer; failure?: WriteFailure }) => {
      this.#unwritten -= message.bytes;
      if (message.data.byteLength === BATCH_BYTES) this.#free.push(message.data);
      if (message.failure) this.#failed ??= rebuiltError(message.failure);
      this.#wake();
    });
    const fail = (error: Error): void => {
      this.#failed ??= error;
      this.#unwritten = 0;
      this.#wake();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.#worker === worker) fail(new Error(`the file-writing worker thread exited (code ${code}) with writes under way`));
    });
    this.#worker = worker;
    return worker;
  }

  async #until(ready: () => boolean): Promise<void> {
    while (!this.#failed && !ready()) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    if (this.#failed) throw this.#failed;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
