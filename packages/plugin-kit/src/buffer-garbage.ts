import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Bytes that pass through a codec between two requests for a full garbage collection.
 *
 * Why collect at all: a codec's large buffers (a file's 1 MiB reads, xz pieces and blocks,
 * bzip2 blocks, decoded chunks) wait in a pipeline long enough to outlive one or two
 * young-generation collections, so V8 moves them to the old generation; dead there, they are
 * freed only by a full collection, which V8 starts by itself only after about 64 MiB more memory
 * outside its heap. So a `.bento` or `.tar.bz2` export or import carried 15–50 MiB of dead
 * buffers in its peak RSS (128 MiB bench bentos: bz2 export 177 → 128 MiB, `.bento` import
 * 169 → 129 MiB with a collection every 4 MiB). Every 2 MiB gained little more, every 32 MiB
 * almost nothing.
 */
export const BUFFER_GARBAGE_INTERVAL_BYTES = 4 * 1024 * 1024;

type Collect = () => void;

/** V8's `gc` extension: a promise when run from a task (`execution: 'async'`), nothing when run at once. */
interface Gc {
  (options: { type?: 'major' | 'minor'; execution: 'async' }): Promise<void>;
  (options: { type?: 'major' | 'minor'; execution?: 'sync' }): void;
}

let exposedGc: Gc | undefined;

/**
 * V8's `gc` function, taken from a fresh context with `--expose-gc` on only while that context is
 * made, so no other context, worker or user code of the process gets a `gc` global. Under
 * `node --expose-gc` the global one serves, and the flag is left as the user set it.
 */
function v8Gc(): Gc {
  if (exposedGc === undefined) {
    const global = (globalThis as { gc?: Gc }).gc;
    if (typeof global === 'function') exposedGc = global;
    else {
      setFlagsFromString('--expose-gc');
      try {
        exposedGc = runInNewContext('gc') as Gc;
      } finally {
        setFlagsFromString('--no-expose-gc');
      }
    }
  }
  return exposedGc;
}

let deferredCollection: Collect | undefined;

/**
 * Asks V8 for a full collection in a task of its own (`execution: 'async'`), never more than one
 * at a time: the caller's stack has unwound by then, but the collection itself is still atomic
 * (`--trace-gc`: a mark-compact of 7–14 ms on a 7.6 MB heap while deflate kept both cores busy;
 * V8's own incremental ones took 1–2 ms of the main thread). So each costs wall time wherever the
 * main thread is on the critical path: a gz export collecting every 4 MiB ran 20–25% longer.
 * JavaScript has no way to start an incremental one.
 */
function v8DeferredCollection(): Collect {
  if (deferredCollection === undefined) {
    const gc = v8Gc();
    let running = false;
    const done = (): void => {
      running = false;
    };
    deferredCollection = () => {
      if (running) return;
      running = true;
      gc({ execution: 'async' }).then(done, done);
    };
  }
  return deferredCollection;
}

/**
 * A young collection (V8's scavenge: its young generation only), run at once. It visits only what
 * is alive there: a fraction of a millisecond with the `bentoport` command's 1 MiB semi-spaces
 * (apps/cli's process-memory.ts), more where a process lets them grow (up to 16 MiB).
 */
function v8YoungCollection(): Collect {
  const gc = v8Gc();
  return () => void gc({ type: 'minor' });
}

/**
 * Bytes between two young collections (`collection: 'young'`). Why: a stream that moves large
 * buffers with little else allocated (a plain tar's file reads on their way to the output, an
 * archive's chunks on their way to the files) fills V8's young generation slowly, so its dead
 * buffers wait many MiB for V8's next young collection. Meanwhile V8 counts them as new memory
 * outside its heap: RSS grows by 10–20 MiB, and once its heap is past 8 MB (a bento of 10,000
 * files) V8 answers with a full collection every ~30 MiB, about 40 per GiB. A 1 GiB tar export of
 * 10,000 files took 2.76 s against 1.77 s for one of 41 files; with a young collection every 8
 * MiB, 2.11 s. A buffer that lives for less than 8 MiB of the stream (a few chunks) meets at most
 * one of ours, so it is freed young unless one of V8's own falls in its life too.
 */
export const YOUNG_BUFFER_GARBAGE_INTERVAL_BYTES = 8 * 1024 * 1024;

/** How often {@link bufferGarbageCollector} collects and how; tests pass their own `collect`. */
export interface BufferGarbageOptions {
  /**
   * Which collection to ask for: `full`, of V8's whole heap, run from a task on this thread (for
   * buffers that die old); `young`, of its young generation only, run at once (for a stream whose
   * buffers die within a few chunks, see {@link YOUNG_BUFFER_GARBAGE_INTERVAL_BYTES}).
   * @default 'full'
   */
  collection?: 'full' | 'young';
  /**
   * Bytes between two collections.
   * @default BUFFER_GARBAGE_INTERVAL_BYTES (4 MiB) for `full`, YOUNG_BUFFER_GARBAGE_INTERVAL_BYTES (8 MiB) for `young`
   */
  intervalBytes?: number;
  /** The collection to run instead of `collection`'s (tests). @default per `collection` */
  collect?: () => void;
}

/** What {@link bufferGarbageCollector} returns. */
export interface BufferGarbageCollector {
  /** Counts `bytes` that went by; asks for a collection when another interval is full. */
  passed(bytes: number): void;
}

/**
 * A counter for the bytes a codec moves on this thread: `passed(bytes)` asks for one garbage
 * collection each time another `intervalBytes` have gone by, so the large buffers that died in
 * the meantime are freed. A full one (see {@link BUFFER_GARBAGE_INTERVAL_BYTES}) for codecs whose
 * work runs off the main thread (worker threads, liblzma's threads), where the main thread has
 * the time; a young one (see {@link YOUNG_BUFFER_GARBAGE_INTERVAL_BYTES}) for a stream that
 * passes its buffers on and lets go of them within a few chunks.
 * @example
 * ```ts
 * import { bufferGarbageCollector } from '@bentoport/plugin-kit';
 *
 * const garbage = bufferGarbageCollector();
 * for (const chunk of [Buffer.alloc(3 << 20), Buffer.alloc(3 << 20)]) garbage.passed(chunk.length); // one collection
 *
 * const young = bufferGarbageCollector({ collection: 'young' });
 * for (let index = 0; index < 16; index++) young.passed(1 << 20); // two young collections, one every 8 MiB
 * ```
 */
export function bufferGarbageCollector(options: BufferGarbageOptions = {}): BufferGarbageCollector {
  const young = options.collection === 'young';
  const intervalBytes = options.intervalBytes ?? (young ? YOUNG_BUFFER_GARBAGE_INTERVAL_BYTES : BUFFER_GARBAGE_INTERVAL_BYTES);
  if (!(intervalBytes > 0)) throw new RangeError(`intervalBytes must be positive, got ${String(intervalBytes)}`);
  const collect = options.collect ?? (young ? v8YoungCollection() : v8DeferredCollection());
  let sinceCollection = 0;
  return {
    passed(bytes: number): void {
      sinceCollection += bytes;
      if (sinceCollection < intervalBytes) return;
      sinceCollection %= intervalBytes;
      collect();
    },
  };
}
