import { createRequire } from 'node:module';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { Worker } from 'node:worker_threads';

/**
 * Decompressed bytes the worker may have handed over that the reader has not taken yet; past
 * this it decodes no further block until the reader catches up. Transform's own backpressure
 * (it holds a write whose output left more than its high-water mark unread) already keeps a
 * steady pipe to about one block; this bounds what a big chunk, or the final flush, could
 * release at once, however the input is chunked.
 */
const OUTPUT_CREDIT = 4 * 1024 * 1024;

/**
 * The worker: unbzip2-stream's block decoder (`lib/bzip2.js`, which checks every block and
 * stream CRC) and bit reader, driven the way its `index.js` drives them, except for where the
 * bytes go. `index.js` collects each block in a JavaScript array, one number per byte, then
 * copies it into a Buffer, and allocates a fresh 3.6 MB Int32Array per block: about 25 MB of
 * garbage per 900 kB block (a 46 MB block of zeros makes a 46-million-element array). Here each
 * block goes into one reusable byte buffer and is copied out once the block CRC matched; the
 * Int32Array is reused too. Same bytes, same errors, same handling of concatenated streams.
 *
 * Both files are loaded by absolute path, so the inline script runs the same from `dist` and from
 * the sources under vitest. Protocol (every message is `{ type, … }`):
 *
 * - main → worker `chunk` (compressed bytes, transferred), `end`, and `consumed` (how many
 *   decompressed bytes the reader has taken);
 * - worker → main `data` (one block's bytes, transferred), `written` (the decoder needs more
 *   input), `end` and `error`.
 *
 * The main thread sends one chunk and waits for `written` before the next, and the worker
 * answers only once fewer than a block's worth of compressed bytes wait undecoded: compressed
 * input stays under ~1 MB plus one chunk. A block is decoded only while fewer than
 * `outputCredit` decompressed bytes are unconsumed, so the output overshoots the credit by one
 * block at most. A stopped worker waits either for `consumed`, which the main thread sends
 * whenever its reader asks for more, or for the input it asked for with `written`, which the
 * main thread sends as soon as its source gives it: neither waits on the other, no deadlock.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const bzip2 = require(workerData.bzip2Path);
const bitIterator = require(workerData.bitIteratorPath);
const { outputCredit } = workerData;

// The decoder's state, named as in unbzip2-stream's index.js.
const bufferQueue = [];
let hasBytes = 0;
let blockSize = 0;
let bitReader = null;
let streamCRC = null;

// bzip2.decompress writes every position of the work array that it later reads, within the same
// block (positions below the block's length, which it checks against the array's size): reusing
// one array for every block is safe.
const work = new Int32Array(900000);
const INITIAL_OUTPUT = 1 << 20;
let output = new Uint8Array(INITIAL_OUTPUT);
let outputLength = 0;
const sink = (byte) => {
  if (outputLength === output.length) {
    const bigger = new Uint8Array(output.length * 2);
    bigger.set(output);
    output = bigger;
  }
  output[outputLength++] = byte;
};

let unconsumed = 0;
let chunkPending = false;
let ending = false;
let finished = false;

/** Reads the next stream header, or decodes the next block (or end-of-stream marker). */
const decodeBlock = () => {
  if (!blockSize) {
    blockSize = bzip2.header(bitReader);
    streamCRC = 0;
    return;
  }
  outputLength = 0;
  streamCRC = bzip2.decompress(bitReader, sink, work, 100000 * blockSize, streamCRC);
  if (streamCRC === null) {
    // End of this stream: another may follow (pbzip2, cat a.bz2 b.bz2).
    blockSize = 0;
    return;
  }
  // A fresh ArrayBuffer the size of the block, which the main thread takes over without a copy.
  const bytes = output.slice(0, outputLength);
  unconsumed += bytes.byteLength;
  parentPort.postMessage({ type: 'data', bytes }, [bytes.buffer]);
  // Give back what a degenerate block (runs of one byte expand up to 50×) made the buffer grow to.
  if (output.length > 4 * INITIAL_OUTPUT) output = new Uint8Array(INITIAL_OUTPUT);
};

const pump = () => {
  while (!finished) {
    const buffered = bitReader === null ? 0 : hasBytes - bitReader.bytesRead;
    // index.js's rule: decode only with a whole block (at most ~900 kB compressed) in hand, since
    // the bit reader cannot wait for bytes; at the end, decode whatever is left.
    const blockReady = ending ? buffered > 0 : bitReader !== null && buffered + 1 >= 25000 + 100000 * blockSize;
    if (blockReady) {
      if (unconsumed >= outputCredit) return;
      decodeBlock();
    } else if (ending) {
      finished = true;
      if (streamCRC !== null) throw new Error('input stream ended prematurely');
      parentPort.postMessage({ type: 'end' });
    } else {
      if (chunkPending) {
        chunkPending = false;
        parentPort.postMessage({ type: 'written' });
      }
      return;
    }
  }
};

parentPort.on('message', (message) => {
  if (finished) return;
  if (message.type === 'consumed') {
    unconsumed -= message.bytes;
  } else if (message.type === 'chunk') {
    const { bytes } = message;
    bufferQueue.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    hasBytes += bytes.byteLength;
    if (bitReader === null) bitReader = bitIterator(() => bufferQueue.shift());
    chunkPending = true;
  } else {
    ending = true;
  }
  try {
    pump();
  } catch (error) {
    // A corrupt, truncated or foreign input: bzip2.js's messages, or the bit reader running out.
    finished = true;
    parentPort.postMessage({ type: 'error', message: String((error && error.message) || error), name: String((error && error.name) || 'Error') });
  }
});
`;

type FromWorker =
  | { type: 'data'; bytes: Uint8Array }
  | { type: 'written' }
  | { type: 'end' }
  | { type: 'error'; message: string; name: string };

/**
 * A streaming bzip2 decoder (unbzip2-stream's pure-JavaScript block decoder, which checks every
 * block and stream CRC and reads concatenated streams) on a worker thread, as a Node Transform:
 * compressed bytes in, decompressed bytes out, bounded memory both ways.
 *
 * On the main thread, unbzip2-stream's per-block garbage (arrays of ~900,000 numbers) grew the
 * heap that tar parsing and file writes also use. On the worker, blocks are decoded into reused
 * typed arrays, so neither heap grows, and decoding runs on another core than the parsing.
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

  constructor() {
    super();
    const require = createRequire(import.meta.url);
    const bzip2Path = require.resolve('unbzip2-stream/lib/bzip2.js');
    const bitIteratorPath = require.resolve('unbzip2-stream/lib/bit_iterator.js');
    // The work and output arrays live outside the JavaScript heap, and what the decoder allocates
    // on it per block is a few kB of Huffman tables: a small young generation is plenty.
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { bzip2Path, bitIteratorPath, outputCredit: OUTPUT_CREDIT },
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
