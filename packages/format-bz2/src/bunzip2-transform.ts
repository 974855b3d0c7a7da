import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { bufferGarbageCollector } from '@bentoport/plugin-kit';
import { BZIP2_STATUS_NAMES, bzip2Module } from './bzip2-wasm.js';

/**
 * Decompressed bytes the worker may have handed over that the reader has not taken yet; past
 * this it decodes no further until the reader catches up. Transform's own backpressure (it
 * holds a write whose output left more than its high-water mark unread) already keeps a steady
 * pipe; this bounds what a big chunk, or the final flush, could release at once (a block of one
 * repeated byte decodes to 46 MB), however the input is chunked.
 */
const OUTPUT_CREDIT = 4 * 1024 * 1024;

/**
 * The worker: libbzip2's decompressor (WebAssembly; it checks every block CRC and the stream
 * CRC) fed a megabyte at a time through the module's input buffer, its output copied out a
 * megabyte at a time. Protocol (every message is `{ type, … }`):
 *
 * - main → worker `chunk` (compressed bytes, transferred), `end`, and `consumed` (how many
 *   decompressed bytes the reader has taken);
 * - worker → main `data` (decompressed bytes, transferred), `written` (the decoder needs more
 *   input), `end` and `error`.
 *
 * The main thread sends one chunk and waits for `written` before the next, and the worker
 * answers only once the decoder has used every byte it was given: compressed input stays under
 * one chunk plus the module's 1 MiB input buffer. A step runs only while fewer than
 * `outputCredit` decompressed bytes are unconsumed, so the output overshoots the credit by one
 * step (1 MiB) at most. A stopped worker waits either for `consumed`, which the main thread
 * sends whenever its reader asks for more, or for the input it asked for with `written`, which
 * the main thread sends as soon as its source gives it: neither waits on the other, no deadlock.
 *
 * Streams follow one another (pbzip2, `cat a.bz2 b.bz2`): after each end of stream the leftover
 * input starts a new decompressor. Bytes after a stream that do not start another are ignored,
 * as `bzip2 -d` and Python's `bz2` ignore them (tape padding); a second stream that starts and
 * breaks off is truncated input, an error.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const bzip2 = new WebAssembly.Instance(workerData.module).exports;
const { outputCredit, statusNames } = workerData;
const BZ_OK = 0, BZ_STREAM_END = 4, BZ_DATA_ERROR = -4, BZ_DATA_ERROR_MAGIC = -5;
const INPUT = bzip2.input_buffer(), OUTPUT = bzip2.output_buffer();
const INPUT_CAPACITY = bzip2.input_capacity(), OUTPUT_CAPACITY = bzip2.output_capacity();

/** Compressed chunks not yet in the module's input buffer, and where the first one resumes. */
const queue = [];
let queueOffset = 0;
/** 'before' any stream, 'inside' one, 'between' two (one ended), 'trailing' (ignored bytes follow). */
let position = 'before';
let streamsEnded = 0;
let unconsumed = 0;
let chunkPending = false;
let ending = false;
let finished = false;

/** Moves queued bytes into the module's input buffer once the decoder has used what it held. */
const refill = () => {
  if (bzip2.input_left() > 0 || queue.length === 0) return bzip2.input_left() > 0;
  const memory = new Uint8Array(bzip2.memory.buffer, INPUT, INPUT_CAPACITY);
  let filled = 0;
  while (queue.length > 0 && filled < INPUT_CAPACITY) {
    const chunk = queue[0];
    const taken = Math.min(INPUT_CAPACITY - filled, chunk.length - queueOffset);
    memory.set(chunk.subarray(queueOffset, queueOffset + taken), filled);
    filled += taken;
    queueOffset += taken;
    if (queueOffset === chunk.length) { queue.shift(); queueOffset = 0; }
  }
  bzip2.set_input(filled);
  return true;
};

const failure = (status) => {
  if (status === BZ_DATA_ERROR) return 'bzip2 data is corrupt (a block or stream CRC does not match, or a block cannot be decoded)';
  if (status === BZ_DATA_ERROR_MAGIC) return 'not bzip2 data (no BZh header)';
  return 'libbzip2 failed: ' + (statusNames[status] || status);
};

const sendOutput = () => {
  const length = bzip2.output_length();
  if (length === 0) return;
  const bytes = new Uint8Array(bzip2.memory.buffer, OUTPUT, length).slice();
  unconsumed += length;
  parentPort.postMessage({ type: 'data', bytes }, [bytes.buffer]);
};

/** One decompressor call; false when it needs input that has not arrived yet. */
const step = () => {
  if (position !== 'inside') {
    const status = bzip2.decompress_init();
    if (status !== BZ_OK) throw new Error(failure(status));
    position = 'inside';
  }
  const status = bzip2.decompress_step();
  if (status === BZ_DATA_ERROR_MAGIC && streamsEnded > 0) {
    position = 'trailing';
    return true;
  }
  if (status < 0) throw new Error(failure(status));
  sendOutput();
  if (status === BZ_STREAM_END) {
    position = 'between';
    streamsEnded++;
    return true;
  }
  // A full output buffer may hold more; otherwise libbzip2 has used all its input.
  return bzip2.output_length() === OUTPUT_CAPACITY;
};
const finish = () => {
  finished = true;
  if (position === 'inside') throw new Error('the bzip2 stream ends before its end-of-stream marker (truncated input)');
  bzip2.end();
  parentPort.postMessage({ type: 'end' });
};

const pump = () => {
  while (!finished) {
    if (position === 'trailing') {
      queue.length = 0;
      bzip2.set_input(0);
      if (ending) return finish();
      if (chunkPending) { chunkPending = false; parentPort.postMessage({ type: 'written' }); }
      return;
    }
    if (unconsumed >= outputCredit) return;
    const hasInput = refill();
    // A full output buffer is emptied before the decoder asks for input again.
    if (hasInput || position === 'inside') {
      if (step()) continue;
      if (bzip2.input_left() > 0 || queue.length > 0) continue;
    }
    if (ending) return finish();
    if (chunkPending) { chunkPending = false; parentPort.postMessage({ type: 'written' }); }
    return;
  }
};

parentPort.on('message', (message) => {
  if (finished) return;
  if (message.type === 'consumed') {
    unconsumed -= message.bytes;
  } else if (message.type === 'chunk') {
    queue.push(message.bytes);
    chunkPending = true;
  } else {
    ending = true;
  }
  try {
    pump();
  } catch (error) {
    // Corrupt, truncated or foreign input.
    finished = true;
    parentPort.postMessage({ type: 'error', message: String((error && error.message) || error), name: 'Error' });
  }
});
`;

type FromWorker =
  | { type: 'data'; bytes: Uint8Array }
  | { type: 'written' }
  | { type: 'end' }
  | { type: 'error'; message: string; name: string };

/**
 * A streaming bzip2 decoder (libbzip2 in WebAssembly, which checks every block and stream CRC;
 * concatenated streams are read in turn) on a worker thread, as a Node Transform: compressed
 * bytes in, decompressed bytes out, bounded memory both ways. On the worker, decoding runs on
 * another core than the tar parsing and file writes, and its memory (3.7 MB, reused for every
 * stream) stays out of the main thread's heap.
 *
 * The stream is destroyed with an Error carrying the decoder's message for corrupt, truncated or
 * non-bzip2 input (the caller turns it into ERR_CORRUPT_ARCHIVE). The worker is terminated when
 * the input ends, on such an error and on `destroy()`; 'close' is emitted only after it exited.
 */
export function createBunzip2(): Transform {
  return new WorkerBunzip2();
}

class WorkerBunzip2 extends Transform {
  readonly #worker: Worker;
  /** The write callback, held until the worker needs more input: one chunk in flight at most. */
  #written: TransformCallback | undefined;
  #flushed: TransformCallback | undefined;
  /** Decompressed bytes pushed that the reader has not yet asked past (returned as credit later). */
  #unacknowledged = 0;
  #terminating = false;
  /** The decoded chunks die once the tar reader has written them out: see bufferGarbageCollector. */
  readonly #garbage = bufferGarbageCollector();

  constructor() {
    super();
    // The decoder's memory is the module's, outside the JavaScript heap: a small young generation is plenty.
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module: bzip2Module(), statusNames: BZIP2_STATUS_NAMES, outputCredit: OUTPUT_CREDIT },
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    this.#worker.on('message', (message: FromWorker) => this.#onMessage(message));
    this.#worker.on('error', (error) => this.destroy(error));
    this.#worker.on('exit', (code) => {
      if (!this.#terminating) this.destroy(new Error(`the bzip2 decoder thread stopped unexpectedly (exit code ${code})`));
    });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    // Chunks from fs streams and the like are views into shared ArrayBuffers: transfer a copy.
    const bytes = new Uint8Array(chunk);
    this.#written = callback;
    this.#worker.postMessage({ type: 'chunk', bytes }, [bytes.buffer]);
  }

  override _flush(callback: TransformCallback): void {
    this.#flushed = callback;
    this.#worker.postMessage({ type: 'end' });
  }

  override _read(size: number): void {
    // The reader wants more: everything pushed so far has been taken (or nearly), so give the
    // worker its credit back. Transform's own _read releases a write it held for backpressure.
    super._read(size);
    this.#acknowledge();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#written = undefined;
    this.#flushed = undefined;
    this.#terminating = true;
    // 'close' waits for the thread to be gone, so a caller that saw it can rely on that.
    this.#worker.terminate().then(
      () => callback(error),
      () => callback(error),
    );
  }

  #onMessage(message: FromWorker): void {
    if (this.destroyed) return;
    switch (message.type) {
      case 'data': {
        this.#unacknowledged += message.bytes.byteLength;
        this.#garbage.passed(message.bytes.byteLength);
        if (this.push(Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength))) this.#acknowledge();
        break;
      }
      case 'written': {
        const callback = this.#written;
        this.#written = undefined;
        callback?.();
        break;
      }
      case 'end': {
        // Every 'data' message came before this one; the thread has nothing left to do.
        this.#terminating = true;
        void this.#worker.terminate();
        const callback = this.#flushed;
        this.#flushed = undefined;
        callback?.();
        break;
      }
      case 'error': {
        const error = new Error(message.message);
        error.name = message.name;
        this.destroy(error);
        break;
      }
    }
  }

  #acknowledge(): void {
    if (this.#unacknowledged === 0 || this.#terminating) return;
    this.#worker.postMessage({ type: 'consumed', bytes: this.#unacknowledged });
    this.#unacknowledged = 0;
  }
}
