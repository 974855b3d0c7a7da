import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * compressjs compresses synchronously in JavaScript (about 0.5 MB/s a core): run it on worker
 * threads, one per core, so the event loop stays free and every core works. The worker is an
 * inline script that loads compressjs by absolute path, so it runs the same from `dist` and
 * from the sources under vitest.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const v8 = require('node:v8');
const vm = require('node:vm');
const compressjs = require(workerData.compressjsPath);
// Each block leaves ~20 MB of typed arrays behind (the BWT's work arrays). V8 collects them only
// after tens of MB of such garbage per thread, which put a bz2 export at 318 MiB peak RSS; a
// collection after every block (milliseconds, against a second of compressing) keeps it flat.
v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc');
parentPort.on('message', ({ id, piece, level }) => {
  try {
    const output = Buffer.from(compressjs.Bzip2.compressFile(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength), undefined, level));
    parentPort.postMessage({ id, output }, [output.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  }
  collect();
});
`;

interface Job {
  resolve: (output: Buffer) => void;
  reject: (error: Error) => void;
}

/** A fixed set of compressjs workers; `compress` queues on the least busy one. */
export class Bzip2WorkerPool {
  readonly #workers: { worker: Worker; pending: number }[] = [];
  readonly #jobs = new Map<number, Job>();
  #nextId = 0;

  constructor(size: number) {
    const compressjsPath = createRequire(import.meta.url).resolve('compressjs');
    for (let index = 0; index < size; index++) {
      // compressjs keeps its work in typed arrays, outside the JS heap: a small young generation is enough.
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { compressjsPath }, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
      const slot = { worker, pending: 0 };
      worker.on('message', (message: { id: number; output?: Uint8Array; error?: string }) => {
        slot.pending--;
        const job = this.#jobs.get(message.id);
        this.#jobs.delete(message.id);
        if (message.error !== undefined || message.output === undefined) job?.reject(new Error(message.error ?? 'no output'));
        else job?.resolve(Buffer.from(message.output.buffer, message.output.byteOffset, message.output.byteLength));
      });
      worker.on('error', (error) => {
        for (const job of this.#jobs.values()) job.reject(error);
        this.#jobs.clear();
      });
      this.#workers.push(slot);
    }
  }

  /** A whole one-block bzip2 stream for `piece`, at block size `level` (1–9). */
  compress(piece: Buffer, level: number): Promise<Buffer> {
    const slot = this.#workers.reduce((best, candidate) => (candidate.pending < best.pending ? candidate : best));
    slot.pending++;
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#jobs.set(id, { resolve, reject });
      slot.worker.postMessage({ id, piece, level });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map(({ worker }) => worker.terminate()));
  }
}
