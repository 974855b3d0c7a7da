import { Worker } from 'node:worker_threads';
import { literalEncoderSource } from './literal-lzma2.js';
import type { LiteralProperties } from './literal-lzma2.js';

/**
 * The literal-only LZMA2 encoder runs in JavaScript, synchronously: on worker threads, one per
 * core, so that pieces are coded side by side and the event loop stays free to read the next
 * ones. The worker is an inline script that rebuilds the encoder class from its source text, so
 * it runs the same from `dist` (one bundled file) and from the TypeScript sources under vitest.
 */
const workerSource = (): string => `
const { parentPort } = require('node:worker_threads');
const LiteralLzma2Encoder = ${literalEncoderSource()};
parentPort.on('message', ({ id, piece, properties, storedFraction }) => {
  try {
    const output = new LiteralLzma2Encoder(properties).encode(piece, storedFraction);
    parentPort.postMessage({ id, output }, [output.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.message) || error) });
  }
});
`;

interface Job {
  resolve: (output: Buffer) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Job>;
}

/** A fixed set of literal-encoder workers; `encode` queues on the least busy one. */
export class LiteralEncoderPool {
  readonly #slots: Slot[] = [];
  #nextId = 0;

  /** @param size how many workers (pieces coded at once). */
  constructor(size: number) {
    const source = workerSource();
    for (let index = 0; index < size; index++) this.#slots.push(LiteralEncoderPool.#startWorker(source));
  }

  static #startWorker(source: string): Slot {
    // The encoder's tables are typed arrays outside the JS heap: a small young generation is enough.
    const worker = new Worker(source, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    const slot: Slot = { worker, jobs: new Map() };
    // An idle pool must not keep the process alive (an export abandoned before its close).
    worker.unref();
    worker.on('message', (message: { id: number; output?: Uint8Array; error?: string }) => {
      const job = slot.jobs.get(message.id);
      slot.jobs.delete(message.id);
      if (slot.jobs.size === 0) worker.unref();
      if (message.output === undefined) job?.reject(new Error(`literal LZMA2 encoder: ${message.error ?? 'no output'}`));
      else job?.resolve(Buffer.from(message.output.buffer, message.output.byteOffset, message.output.byteLength));
    });
    const failAll = (error: Error) => {
      for (const job of slot.jobs.values()) job.reject(error);
      slot.jobs.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`literal LZMA2 encoder worker exited with code ${code}`)));
    return slot;
  }

  /**
   * The LZMA2 data (see `LiteralLzma2Encoder.encode`) of `piece`, coded on a worker. `piece` is
   * copied to the worker, not transferred: the caller still needs it for the block's check.
   */
  encode(piece: Uint8Array, properties: LiteralProperties, storedFraction: number): Promise<Buffer> {
    const slot = this.#slots.reduce((best, candidate) => (candidate.jobs.size < best.jobs.size ? candidate : best));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      slot.jobs.set(id, { resolve, reject });
      slot.worker.ref();
      slot.worker.postMessage({ id, piece, properties, storedFraction });
    });
  }

  /** Stops every worker; pending encodes fail. */
  async close(): Promise<void> {
    await Promise.all(this.#slots.map(({ worker }) => worker.terminate()));
  }
}
