import { Worker } from 'node:worker_threads';
import { BZIP2_STATUS_NAMES, bzip2Module } from './bzip2-wasm.js';

/**
 * libbzip2 (WebAssembly) compressing on worker threads, one per core, so the event loop stays
 * free and every core works. The worker is an inline script that instantiates the module the
 * main thread compiled, so it runs the same from `dist` and from the sources under vitest.
 *
 * A piece goes into the module's input buffer a megabyte at a time with BZ_RUN, then BZ_FINISH
 * until BZ_STREAM_END; each step's output is copied out of the module's memory. All of the
 * compressor's memory (about 7.6 MB at -9) is reused from one piece to the next.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const v8 = require('node:v8');
const vm = require('node:vm');
const bzip2 = new WebAssembly.Instance(workerData.module).exports;
const statusNames = workerData.statusNames;
const BZ_RUN = 0, BZ_FINISH = 2, BZ_OK = 0, BZ_STREAM_END = 4;
const INPUT = bzip2.input_buffer(), OUTPUT = bzip2.output_buffer(), INPUT_CAPACITY = bzip2.input_capacity();

const fail = (operation, status) => { throw new Error('libbzip2 ' + operation + ' failed: ' + (statusNames[status] || status)); };

/** Moves the next part of the piece into the module's input buffer once it has used the last. */
const feed = (piece, offset) => {
  if (bzip2.input_left() > 0 || offset === piece.length) return offset;
  const length = Math.min(INPUT_CAPACITY, piece.length - offset);
  new Uint8Array(bzip2.memory.buffer, INPUT, length).set(piece.subarray(offset, offset + length));
  bzip2.set_input(length);
  return offset + length;
};

/** Appends one step's output to \`into\` (grown if need be) and returns the buffer that holds it. */
const append = (into, length) => {
  const produced = bzip2.output_length();
  if (length + produced > into.length) {
    const larger = new Uint8Array(Math.max(into.length * 2, length + produced));
    larger.set(into.subarray(0, length));
    into = larger;
  }
  into.set(new Uint8Array(bzip2.memory.buffer, OUTPUT, produced), length);
  return into;
};

// The steps' output is gathered here, kept from block to block (one block of -9 is at most
// ~910 kB); each block leaves in a copy of exactly its size, so no buffer is allocated per block
// but the one the main thread gets.
let output = new Uint8Array(1 << 20);

const compress = (piece, level) => {
  const status = bzip2.compress_init(level);
  if (status !== BZ_OK) fail('init', status);
  let length = 0;
  let offset = 0;
  for (;;) {
    offset = feed(piece, offset);
    const status = bzip2.compress_step(offset === piece.length ? BZ_FINISH : BZ_RUN);
    if (status < 0) fail('compress', status);
    output = append(output, length);
    length += bzip2.output_length();
    if (status === BZ_STREAM_END) break;
  }
  bzip2.end();
  return output.slice(0, length);
};

// The piece (transferred in) and the output (transferred out) are the only buffers a block
// leaves behind, outside the JavaScript heap; V8 counts such memory but collects it only after
// tens of MB per thread, which put an export at 252 MiB peak RSS. A young-generation collection
// after every block (a millisecond, against a tenth of a second of compressing; a full one took
// 17 ms) frees them, since they die young, and keeps the memory flat.
v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc');

parentPort.on('message', ({ id, piece, level }) => {
  try {
    const compressed = compress(piece, level);
    parentPort.postMessage({ id, output: compressed }, [compressed.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.message) || error) });
  }
  collect({ type: 'minor' });
});
`;

interface Job {
  resolve: (output: Buffer) => void;
  reject: (error: Error) => void;
}

/** A fixed set of libbzip2 workers; `compress` queues on the least busy one. */
export class Bzip2WorkerPool {
  readonly #workers: { worker: Worker; pending: number }[] = [];
  readonly #jobs = new Map<number, Job>();
  #nextId = 0;

  constructor(size: number) {
    const workerData = { module: bzip2Module(), statusNames: BZIP2_STATUS_NAMES };
    for (let index = 0; index < size; index++) {
      // The compressor's work arrays live in the module's memory, outside the JavaScript heap.
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
      const slot = { worker, pending: 0 };
      worker.on('message', (message: { id: number; output?: Uint8Array; error?: string }) => this.#settle(slot, message));
      worker.on('error', (error) => this.#failAll(error));
      this.#workers.push(slot);
    }
  }

  #settle(slot: { pending: number }, message: { id: number; output?: Uint8Array; error?: string }): void {
    slot.pending--;
    const job = this.#jobs.get(message.id);
    this.#jobs.delete(message.id);
    if (message.error !== undefined || message.output === undefined) job?.reject(new Error(message.error ?? 'no output'));
    else job?.resolve(Buffer.from(message.output.buffer, message.output.byteOffset, message.output.byteLength));
  }

  #failAll(error: Error): void {
    for (const job of this.#jobs.values()) job.reject(error);
    this.#jobs.clear();
  }

  /**
   * A whole bzip2 stream for `piece`, at block size `level` (1–9). The ArrayBuffer under `piece`
   * moves to the worker without a copy: it must hold nothing else the caller still needs (a
   * Buffer from Node's small-buffer pool would take its neighbours along).
   */
  compress(piece: Buffer, level: number): Promise<Buffer> {
    const slot = this.#workers.reduce((best, candidate) => (candidate.pending < best.pending ? candidate : best));
    slot.pending++;
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#jobs.set(id, { resolve, reject });
      slot.worker.postMessage({ id, piece, level }, [piece.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map(({ worker }) => worker.terminate()));
  }
}
