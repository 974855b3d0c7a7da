import { Worker } from 'node:worker_threads';
import { LiteralLzma2Encoder, literalEncoderSource } from './literal-lzma2.js';
import type { LiteralProperties } from './literal-lzma2.js';

/**
 * The literal-only LZMA2 encoder runs in JavaScript, synchronously: on worker threads, one per
 * core, so that pieces are coded side by side and the event loop stays free to read the next
 * ones. The worker is an inline script that rebuilds the encoder class from its source text, so
 * it runs the same from `dist` (one bundled file) and from the TypeScript sources under vitest.
 *
 * Memory: each worker owns two shared buffers, one for the piece and one for its LZMA2 data,
 * reused for every piece, and one encoder per set of properties. A worker therefore allocates
 * nothing per piece: when pieces were cloned to it and its output transferred back, every piece
 * left 4 MiB of garbage outside the worker's heap, which V8 collects only after tens of MiB, and
 * the two workers added about 120 MiB to an export's peak RSS.
 */
const workerSource = (): string => `
const { parentPort } = require('node:worker_threads');
const LiteralLzma2Encoder = ${literalEncoderSource()};
const encoders = new Map();
function encoderFor(properties) {
  const key = properties.literalContextBits + ',' + properties.literalPositionBits + ',' + properties.positionBits;
  let encoder = encoders.get(key);
  if (encoder === undefined) {
    encoder = new LiteralLzma2Encoder(properties);
    encoders.set(key, encoder);
  }
  return encoder;
}
parentPort.on('message', ({ id, input, output, length, properties, storedFraction }) => {
  try {
    const written = encoderFor(properties).encode(new Uint8Array(input, 0, length), storedFraction, new Uint8Array(output)).length;
    parentPort.postMessage({ id, written });
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.message) || error) });
  }
});
`;

interface Job {
  id: number;
  piece: Uint8Array;
  properties: LiteralProperties;
  storedFraction: number;
  resolve: (output: Buffer) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  /** The piece being coded, copied in by the pool. */
  input: SharedArrayBuffer;
  /** The worker's LZMA2 data for it. */
  output: SharedArrayBuffer;
  /** The piece this worker codes now: one at a time, as it has one pair of buffers. */
  job: Job | undefined;
  /** Set when the worker has exited or failed: no job goes to it again. */
  dead: boolean;
}

/** A fixed set of literal-encoder workers; `encode` queues pieces for the first free one. */
export class LiteralEncoderPool {
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  #nextId = 0;

  /** @param size how many workers (pieces coded at once). */
  constructor(size: number) {
    const source = workerSource();
    for (let index = 0; index < size; index++) this.#slots.push(this.#startWorker(source));
  }

  #startWorker(source: string): Slot {
    // The worker's JS heap holds only the encoders' small tables; its buffers are shared, outside it.
    const worker = new Worker(source, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 } });
    const slot: Slot = { worker, input: new SharedArrayBuffer(0), output: new SharedArrayBuffer(0), job: undefined, dead: false };
    // An idle pool must not keep the process alive (an export abandoned before its close).
    worker.unref();
    worker.on('message', (message: { id: number; written?: number; error?: string }) => {
      const job = slot.job;
      if (job === undefined || job.id !== message.id) return;
      slot.job = undefined;
      worker.unref();
      if (message.written === undefined) job.reject(new Error(`literal LZMA2 encoder: ${message.error ?? 'no output'}`));
      // A copy: the shared output is overwritten by the worker's next piece.
      else job.resolve(Buffer.from(new Uint8Array(slot.output, 0, message.written)));
      this.#dispatch();
    });
    const fail = (error: Error) => {
      slot.dead = true;
      slot.job?.reject(error);
      slot.job = undefined;
      if (this.#slots.every((candidate) => candidate.dead)) this.#rejectQueued(error);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`literal LZMA2 encoder worker exited with code ${code}`)));
    return slot;
  }

  /**
   * The LZMA2 data (see `LiteralLzma2Encoder.encode`) of `piece`, coded on a worker. `piece` is
   * copied into the worker's shared buffer when its turn comes, so the caller keeps it (it still
   * needs it for the block's check) and must not change it until the promise settles.
   */
  encode(piece: Uint8Array, properties: LiteralProperties, storedFraction: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.#slots.every((slot) => slot.dead)) {
        reject(new Error('literal LZMA2 encoder pool: every worker has exited'));
        return;
      }
      this.#queue.push({ id: this.#nextId++, piece, properties, storedFraction, resolve, reject });
      this.#dispatch();
    });
  }

  /** Stops every worker; pending encodes fail. */
  async close(): Promise<void> {
    this.#rejectQueued(new Error('literal LZMA2 encoder pool closed: its workers exited'));
    await Promise.all(this.#slots.map(({ worker }) => worker.terminate()));
  }

  /** Hands queued pieces to idle workers, growing a worker's buffers for a larger piece. */
  #dispatch(): void {
    for (const slot of this.#slots) {
      if (slot.dead || slot.job !== undefined) continue;
      const job = this.#queue.shift();
      if (job === undefined) return;
      if (slot.input.byteLength < job.piece.length) {
        slot.input = new SharedArrayBuffer(job.piece.length);
        slot.output = new SharedArrayBuffer(LiteralLzma2Encoder.maxEncodedLength(job.piece.length));
      }
      new Uint8Array(slot.input).set(job.piece);
      slot.job = job;
      slot.worker.ref();
      const { id, properties, storedFraction } = job;
      slot.worker.postMessage({ id, input: slot.input, output: slot.output, length: job.piece.length, properties, storedFraction });
    }
  }

  #rejectQueued(error: Error): void {
    for (const job of this.#queue.splice(0)) job.reject(error);
  }
}
