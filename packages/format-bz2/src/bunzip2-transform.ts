import { availableParallelism } from 'node:os';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { bufferGarbageCollector } from '@bentoport/plugin-kit';
import { Bzip2BlockScanner, type Bzip2Segment } from './bzip2-block-scanner.js';
import { BZIP2_STATUS_NAMES, bzip2Module } from './bzip2-wasm.js';

/**
 * Decompressed bytes of one block that a worker may have handed over and the reader has not
 * taken yet; past this it decodes no further until the reader catches up. A block of one
 * repeated byte decodes to 46 MB, and the blocks after the one being read wait their turn: each
 * worker holds at most this much, however the input is chunked.
 */
const OUTPUT_CREDIT = 4 * 1024 * 1024;

/** A false cut (a magic found inside a block's bits) is undone by decoding the halves as one; more than this is corruption. */
const MAX_SEGMENTS_PER_BLOCK = 3;

/**
 * The worker: libbzip2's decompressor (WebAssembly) decoding one block at a time, wrapped as a
 * stream of its own — the `BZh9` header, the block's bits shifted to a byte boundary, the
 * end-of-stream magic and the block's CRC as the stream's CRC — so libbzip2 checks the block's
 * CRC as it would in the original stream. Protocol (every message is `{ type, id, … }`):
 *
 * - main → worker `block` (the segment's bytes, transferred; its bit offset, bit length and
 *   CRC), `consumed` (decompressed bytes of that block the reader has taken), `cancel`;
 * - worker → main `data` (decompressed bytes, transferred), `done`, `failed` (with the message).
 *
 * The level in the header is always 9: libbzip2 takes a block of any smaller size under it.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const v8 = require('node:v8');
const vm = require('node:vm');
const bzip2 = new WebAssembly.Instance(workerData.module).exports;
const { outputCredit, statusNames } = workerData;
const BZ_OK = 0, BZ_STREAM_END = 4, BZ_DATA_ERROR = -4;
const INPUT = bzip2.input_buffer(), OUTPUT = bzip2.output_buffer();
const INPUT_CAPACITY = bzip2.input_capacity(), OUTPUT_CAPACITY = bzip2.output_capacity();
const TRAILER = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];

// One buffer for every block's stream, grown when a block needs more: nothing is allocated per block.
let streamBuffer = new Uint8Array(1 << 20);

/** The block's bits as a stream of its own (see bunzip2-transform.ts), in streamBuffer. */
const standalone = (bytes, bitOffset, bitLength, crc) => {
  const whole = Math.ceil(bitLength / 8);
  const size = 4 + Math.ceil((bitLength + 80) / 8);
  if (streamBuffer.length < size) streamBuffer = new Uint8Array(size);
  const out = streamBuffer.subarray(0, size);
  out.fill(0, 4 + Math.max(0, whole - 1));
  out.set([0x42, 0x5a, 0x68, 0x39]);
  if (bitOffset === 0) {
    out.set(bytes.subarray(0, whole), 4);
  } else {
    const back = 8 - bitOffset;
    for (let i = 0; i < whole; i++) out[4 + i] = ((bytes[i] << bitOffset) | ((bytes[i + 1] ?? 0) >>> back)) & 0xff;
  }
  // Bits past the block's last are cleared, then the trailer is written bit by bit from there.
  let bit = 32 + bitLength;
  if (bitLength % 8 !== 0) out[4 + whole - 1] &= (0xff << (8 - (bitLength % 8))) & 0xff;
  const put = (value, count) => {
    for (let i = count - 1; i >= 0; i--) {
      if ((value >>> i) & 1) out[bit >>> 3] |= 0x80 >>> (bit & 7);
      bit++;
    }
  };
  for (const byte of TRAILER) put(byte, 8);
  put(crc >>> 16, 16);
  put(crc & 0xffff, 16);
  return out;
};

const failure = (status) => {
  if (status === BZ_DATA_ERROR) return 'bzip2 data is corrupt (a block or stream CRC does not match, or a block cannot be decoded)';
  return 'libbzip2 failed: ' + (statusNames[status] || status);
};

/** The block being decoded: { id, bytes, stream, offset, unconsumed, emitted }. */
let job;

// What a block leaves behind (its output, transferred away) is external memory that V8 frees
// only when it collects the young generation, which these few small objects rarely fill: a
// minor collection after each block (a millisecond against ~40 ms of decoding) keeps it flat.
v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc');

/** Ends the block: its segment's bytes go back to the main thread, which keeps them for a retry. */
const finish = (message) => {
  bzip2.end();
  const { bytes } = job;
  parentPort.postMessage({ ...message, bytes }, [bytes.buffer]);
  job = undefined;
  collect({ type: 'minor' });
};

const pump = () => {
  while (job !== undefined && job.unconsumed < outputCredit) {
    if (bzip2.input_left() === 0 && job.offset < job.stream.length) {
      const length = Math.min(INPUT_CAPACITY, job.stream.length - job.offset);
      new Uint8Array(bzip2.memory.buffer, INPUT, length).set(job.stream.subarray(job.offset, job.offset + length));
      bzip2.set_input(length);
      job.offset += length;
    }
    const status = bzip2.decompress_step();
    if (status < 0) return finish({ type: 'failed', id: job.id, emitted: job.emitted, message: failure(status) });
    const length = bzip2.output_length();
    if (length > 0) {
      const bytes = new Uint8Array(bzip2.memory.buffer, OUTPUT, length).slice();
      job.unconsumed += length;
      job.emitted += length;
      parentPort.postMessage({ type: 'data', id: job.id, bytes }, [bytes.buffer]);
    }
    if (status === BZ_STREAM_END) return finish({ type: 'done', id: job.id });
    // The decoder wants more than the block has: its bits end early.
    if (length < OUTPUT_CAPACITY && bzip2.input_left() === 0 && job.offset === job.stream.length) {
      return finish({ type: 'failed', id: job.id, emitted: job.emitted, message: failure(BZ_DATA_ERROR) });
    }
  }
};

parentPort.on('message', (message) => {
  if (message.type === 'block') {
    const status = bzip2.decompress_init();
    bzip2.set_input(0);
    if (status !== BZ_OK) return parentPort.postMessage({ type: 'failed', id: message.id, emitted: 0, message: failure(status), bytes: message.bytes }, [message.bytes.buffer]);
    job = { id: message.id, bytes: message.bytes, stream: standalone(message.bytes, message.bitOffset, message.bitLength, message.crc), offset: 0, unconsumed: 0, emitted: 0 };
  } else if (message.type === 'consumed') {
    if (job === undefined || job.id !== message.id) return;
    job.unconsumed -= message.bytes;
  } else if (message.type === 'cancel') {
    if (job === undefined || job.id !== message.id) return;
    return finish({ type: 'done', id: message.id });
  }
  pump();
});
`;

type FromWorker =
  | { type: 'data'; id: number; bytes: Uint8Array }
  | { type: 'done'; id: number; bytes: Uint8Array }
  | { type: 'failed'; id: number; emitted: number; message: string; bytes: Uint8Array };

/** One block (one or more segments) and what became of it. */
interface BlockJob {
  id: number;
  kind: 'block';
  segment: Bzip2Segment;
  /** Segments decoded as one so far (a false cut undone). */
  segments: number;
  worker: DecoderWorker | undefined;
  /** Decoded bytes in hand, not yet pushed (the block is not the first in line yet). */
  waiting: Buffer[];
  /** Stopped to free its worker for the first in line: queued again once its worker answers. */
  requeue?: boolean;
  /** Cancelled: dropped (a false cut's second half, or bytes after the last stream); its worker answers with its bytes. */
  state: 'queued' | 'running' | 'done' | 'failed' | 'cancelling' | 'cancelled';
  failure?: { message: string; emitted: number };
}

/** An end of stream in line: its CRC is checked once every block before it is done. */
interface StreamEnd {
  kind: 'eos';
  segment: Bzip2Segment;
}

type InLine = BlockJob | StreamEnd;

interface DecoderWorker {
  worker: Worker;
  job: BlockJob | undefined;
}

/** Options of {@link createBunzip2}. */
export interface Bunzip2Options {
  /** Worker threads decoding blocks at once. @default os.availableParallelism(), at most {@link MAX_DEFAULT_DECODERS} */
  concurrency?: number;
}

/**
 * Decoder threads unless `concurrency` says otherwise. Past this many, the main thread (block
 * scan, tar parsing, file writes) is the limit, and each thread is an isolate of ~9 MiB plus
 * 4 MiB of output credit: 64 on a large machine would hold most of a GiB for no speed.
 */
export const MAX_DEFAULT_DECODERS = 8;

/** Decoder threads for a `concurrency` option (undefined: not given) on a machine of `parallelism` cores. */
export function decoderThreads(concurrency: number | undefined, parallelism: number): number {
  return Math.max(1, concurrency ?? Math.min(parallelism, MAX_DEFAULT_DECODERS));
}

/**
 * A streaming bzip2 decoder (libbzip2 in WebAssembly) that decodes the blocks of a stream on
 * several worker threads at once, as a Node Transform: compressed bytes in, decompressed bytes
 * out, in order, bounded memory both ways. Every block CRC is checked by libbzip2, and every
 * stream's combined CRC here; concatenated streams are read in turn, and bytes after a stream
 * that start no other are ignored, as `bzip2 -d` ignores them.
 *
 * Why: libbzip2 decodes one block after another on one core, and an import of a `.tar.bz2` was
 * then slower than `tar xjf` on two cores. bzip2 blocks are independent once found (the scanner,
 * bzip2-block-scanner.ts), as lbzip2 and pbzip2 use them.
 *
 * The stream is destroyed with an Error carrying the decoder's message for corrupt, truncated or
 * non-bzip2 input (the caller turns it into ERR_CORRUPT_ARCHIVE). The workers are terminated when
 * the input ends, on such an error and on `destroy()`; 'close' is emitted only after they exited.
 */
export function createBunzip2(options: Bunzip2Options = {}): Transform {
  return new ParallelBunzip2(decoderThreads(options.concurrency, availableParallelism()), new Bzip2BlockScanner());
}

/** What the decoder needs of a scanner; tests hand it one that makes false cuts. */
export type SegmentSource = Pick<Bzip2BlockScanner, 'push' | 'end' | 'next'>;

/** createBunzip2 with the segments of `scanner`: for tests of what a false cut does. */
export function bunzip2WithScanner(scanner: SegmentSource, concurrency: number): Transform {
  return new ParallelBunzip2(concurrency, scanner);
}

class ParallelBunzip2 extends Transform {
  readonly #scanner: SegmentSource;
  readonly #workers: DecoderWorker[] = [];
  /** Blocks and ends of stream in input order; the first is the one being output. */
  readonly #line: InLine[] = [];
  /** The combined CRC of the blocks of the current stream output so far. */
  #combined = 0;
  #nextId = 0;
  /** The write callback, held while enough blocks wait: the input waits with it. */
  #written: TransformCallback | undefined;
  #flushed: TransformCallback | undefined;
  #inputEnded = false;
  /** The scanner has no more segments in the input it was given. */
  #exhausted = true;
  /** Trailing bytes were reached: nothing after them is output. */
  #finished = false;
  #terminating = false;
  #advancing = false;
  /** _read came while the line was being advanced: the reader has room again. */
  #readAgain = false;
  /** Something changed while the line was being advanced: go round again. */
  #again = false;
  /** The last push found the reader's buffer full: wait for _read. */
  #readerFull = false;
  readonly #maxInLine: number;
  /** Decoded bytes in hand that wait for their block's turn, and how many may (see #schedule). */
  #heldBytes = 0;
  readonly #outputBudget: number;
  /** The decoded chunks die once the tar reader has written them out: see bufferGarbageCollector. */
  readonly #garbage = bufferGarbageCollector();

  constructor(concurrency: number, scanner: SegmentSource) {
    super();
    this.#scanner = scanner;
    this.#maxInLine = 2 * concurrency + 2;
    this.#outputBudget = concurrency * OUTPUT_CREDIT;
    const workerData = { module: bzip2Module(), statusNames: BZIP2_STATUS_NAMES, outputCredit: OUTPUT_CREDIT };
    for (let index = 0; index < concurrency; index++) {
      // The decoder's memory is the module's, outside the JavaScript heap: a small young generation is plenty.
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
      const slot: DecoderWorker = { worker, job: undefined };
      worker.on('message', (message: FromWorker) => this.#onMessage(slot, message));
      worker.on('error', (error) => this.destroy(error));
      worker.on('exit', (code) => {
        if (!this.#terminating) this.destroy(new Error(`a bzip2 decoder thread stopped unexpectedly (exit code ${code})`));
      });
      this.#workers.push(slot);
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#finished) {
      callback();
      return;
    }
    // Held until the scanner has given every block of the chunk to the line (see #pull).
    this.#scanner.push(chunk);
    this.#exhausted = false;
    this.#written = callback;
    this.#advance();
  }

  override _flush(callback: TransformCallback): void {
    this.#inputEnded = true;
    this.#scanner.end();
    this.#exhausted = false;
    this.#flushed = callback;
    this.#advance();
  }

  override _read(size: number): void {
    // The reader wants more. Transform's own _read releases a write it held for backpressure.
    super._read(size);
    if (this.#advancing) this.#readAgain = true;
    else this.#readerFull = false;
    this.#advance();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#written = undefined;
    this.#flushed = undefined;
    this.#terminate().then(
      () => callback(error),
      () => callback(error),
    );
  }

  #terminate(): Promise<unknown> {
    this.#terminating = true;
    return Promise.all(this.#workers.map(({ worker }) => worker.terminate()));
  }

  /**
   * Takes segments from the scanner into the line while it has room: a chunk holding many
   * blocks waits in the scanner, not in the line. Sets `#exhausted` once the input in hand
   * has no more.
   */
  #pull(): void {
    while (!this.#exhausted && this.#line.length < this.#maxInLine) {
      const segment = this.#finished ? undefined : this.#scanner.next();
      if (segment === undefined) {
        this.#exhausted = true;
        break;
      }
      if (segment.kind === 'eos') this.#line.push({ kind: 'eos', segment });
      else this.#line.push({ id: this.#nextId++, kind: 'block', segment, segments: 1, worker: undefined, waiting: [], state: 'queued' });
    }
  }

  /**
   * Gives queued blocks, first in line first, to idle workers, while the output the blocks after
   * the first hold stays within budget. The first in line always gets a worker: if none is idle
   * (a block decoded again after a false cut, while later ones hold every worker waiting for
   * their turn), the last running block is stopped and queued again, or the line would stall.
   */
  #schedule(): void {
    for (const slot of this.#workers) {
      if (slot.job !== undefined) continue;
      const job = this.#line.find((entry): entry is BlockJob => entry.kind === 'block' && entry.state === 'queued');
      if (job === undefined) break;
      if (job !== this.#line[0] && this.#heldBytes >= this.#outputBudget) break;
      this.#start(slot, job);
    }
    const first = this.#line[0];
    if (first?.kind !== 'block' || first.state !== 'queued') return;
    if (this.#line.some((entry) => entry.kind === 'block' && entry.requeue)) return;
    const last = this.#line.findLast((entry): entry is BlockJob => entry.kind === 'block' && entry.state === 'running');
    if (last === undefined) return;
    this.#cancel([last]);
    last.requeue = true;
  }

  #start(slot: DecoderWorker, job: BlockJob): void {
    const { segment } = job;
    // The bytes come back with the answer, for a merge should this turn out half a block.
    const { bytes } = segment;
    slot.job = job;
    job.worker = slot;
    job.state = 'running';
    const bitOffset = segment.startBit % 8;
    slot.worker.postMessage({ type: 'block', id: job.id, bytes, bitOffset, bitLength: segment.endBit - segment.startBit, crc: segment.crc }, [bytes.buffer as ArrayBuffer]);
  }

  #onMessage(slot: DecoderWorker, message: FromWorker): void {
    if (this.destroyed) return;
    const job = slot.job;
    // Every block sent gets one answer, 'done' or 'failed', after any 'data'.
    if (job === undefined || job.id !== message.id) return;
    if (message.type === 'data') {
      if (job.state === 'cancelling') return;
      this.#garbage.passed(message.bytes.byteLength);
      job.waiting.push(Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength));
      this.#heldBytes += message.bytes.byteLength;
    } else {
      slot.job = undefined;
      job.worker = undefined;
      job.segment.bytes = message.bytes;
      if (job.requeue) {
        job.requeue = false;
        job.state = 'queued';
      } else if (job.state === 'cancelling') job.state = 'cancelled';
      else if (message.type === 'done') job.state = 'done';
      else {
        job.state = 'failed';
        job.failure = { message: message.message, emitted: message.emitted };
      }
      this.#schedule();
    }
    this.#advance();
  }

  /**
   * Outputs what the first in line allows, and moves down the line. Re-entrant calls (a push
   * may call _read; releasing the held write may run _transform or _flush at once) only ask the
   * running loop to go round again.
   */
  #advance(): void {
    if (this.#advancing) {
      this.#again = true;
      return;
    }
    this.#advancing = true;
    try {
      do {
        this.#again = false;
        if (this.#readAgain) this.#readerFull = false;
        this.#readAgain = false;
        this.#advanceLine();
      } while (this.#again && !this.destroyed);
    } finally {
      this.#advancing = false;
    }
  }

  #advanceLine(): void {
    try {
      let moved = true;
      while (moved && !this.destroyed) {
        this.#pull();
        this.#schedule();
        moved = false;
        while (!this.destroyed && this.#line.length > 0) {
          const first = this.#line[0] as InLine;
          if (first.kind === 'eos' ? !this.#endStream(first) : !this.#outputBlock(first)) break;
          this.#line.shift();
          moved = true;
        }
      }
      // Output went out: the budget may allow another block.
      this.#schedule();
    } catch (error) {
      this.destroy(error as Error);
      return;
    }
    if (this.destroyed) return;
    if (this.#exhausted && this.#written) {
      const callback = this.#written;
      this.#written = undefined;
      callback();
    }
    if (this.#line.length === 0 && this.#inputEnded && this.#exhausted && this.#flushed) {
      const callback = this.#flushed;
      this.#flushed = undefined;
      void this.#terminate();
      callback();
    }
  }

  /** Checks a stream's CRC; true when it is done with. */
  #endStream(end: StreamEnd): boolean {
    const { segment } = end;
    if (segment.crc === undefined) throw new Error('the bzip2 stream ends before its end-of-stream marker (truncated input)');
    if (segment.crc !== this.#combined) throw new Error('bzip2 data is corrupt (the stream CRC does not match its blocks)');
    this.#combined = 0;
    if (segment.followedBy === 'trailing') {
      // Bytes to ignore: whatever the scanner made of them is dropped.
      this.#finished = true;
      this.#cancel(this.#line.slice(1));
      this.#line.length = 1;
      return true;
    }
    if (segment.end === 'eof') throw new Error('the bzip2 stream ends before its end-of-stream marker (truncated input)');
    return true;
  }

  /**
   * Pushes a block's output as it comes, while the reader keeps up (what it has not taken waits
   * in `waiting`, bounded by the worker's credit); true once all of it is out.
   */
  #outputBlock(job: BlockJob): boolean {
    if (job.segment.end === 'eof') throw new Error('the bzip2 stream ends before its end-of-stream marker (truncated input)');
    while (job.waiting.length > 0 && !this.#readerFull) {
      const bytes = job.waiting.shift() as Buffer;
      this.#heldBytes -= bytes.length;
      this.#readerFull = !this.push(bytes);
      // Handed to the reader: the worker may decode that much more.
      job.worker?.worker.postMessage({ type: 'consumed', id: job.id, bytes: bytes.length });
    }
    if (job.waiting.length > 0) return false;
    if (job.state === 'failed') return this.#retry(job);
    if (job.state !== 'done') return false;
    this.#combined = (((this.#combined << 1) | (this.#combined >>> 31)) ^ (job.segment.crc as number)) >>> 0;
    return true;
  }

  /**
   * A block that failed before it gave a byte may be the first half of a block that a false cut
   * split: it is decoded again with the segment after it. False when it is running again (or
   * waiting for the segment after it).
   */
  #retry(job: BlockJob): boolean {
    const failure = job.failure as { message: string; emitted: number };
    const next = this.#line[1];
    if (failure.emitted > 0 || job.segments >= MAX_SEGMENTS_PER_BLOCK || (next === undefined && this.#inputEnded)) throw new Error(failure.message);
    if (next === undefined) return false;
    // A block needs a magic after it: joined up to the end of the input it cannot be one.
    if (next.segment.end === 'eof') throw new Error(failure.message);
    this.#cancel([next]);
    // A running one first gives its bytes back.
    if (next.kind === 'block' && next.state === 'cancelling') return false;
    this.#line.splice(1, 1);
    const { segment } = job;
    const joined = new Uint8Array(Math.floor(next.segment.startBit / 8) - Math.floor(segment.startBit / 8) + next.segment.bytes.length);
    joined.set(segment.bytes.subarray(0, Math.floor(next.segment.startBit / 8) - Math.floor(segment.startBit / 8)));
    joined.set(next.segment.bytes, joined.length - next.segment.bytes.length);
    job.segment = { ...next.segment, kind: 'block', startBit: segment.startBit, bytes: joined, crc: segment.crc };
    delete job.segment.followedBy;
    job.segments += next.kind === 'block' ? next.segments : 1;
    job.state = 'queued';
    delete job.failure;
    this.#schedule();
    return false;
  }

  #cancel(entries: InLine[]): void {
    for (const entry of entries) {
      if (entry.kind !== 'block') continue;
      if (entry.state === 'running') entry.worker?.worker.postMessage({ type: 'cancel', id: entry.id });
      entry.requeue = false;
      entry.state = entry.state === 'running' || entry.state === 'cancelling' ? 'cancelling' : 'cancelled';
      for (const bytes of entry.waiting.splice(0)) this.#heldBytes -= bytes.length;
    }
  }
}
