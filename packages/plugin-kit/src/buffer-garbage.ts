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

let deferredCollection: Collect | undefined;

/**
 * Asks V8 for a full collection in a task of its own (`execution: 'async'`), never more than one
 * at a time: the caller's stack has unwound by then, but the collection itself is still atomic
 * (`--trace-gc`: a mark-compact of 7–14 ms on a 7.6 MB heap while deflate kept both cores busy;
 * V8's own incremental ones took 1–2 ms of the main thread). So each costs wall time wherever the
 * main thread is on the critical path: a gz export collecting every 4 MiB ran 20–25% longer.
 * JavaScript has no way to start an incremental one. The collector is taken from a fresh
 * context with `--expose-gc` on only while that context is made, so no other context, worker or
 * user code of the process gets a `gc` global.
 */
function v8DeferredCollection(): Collect {
  if (deferredCollection === undefined) {
    type Gc = (options: { execution: 'async' }) => PromiseLike<void>;
    // Under `node --expose-gc` the global one serves, and the flag is left as the user set it.
    const exposed = (globalThis as { gc?: Gc }).gc;
    let gc: Gc;
    if (typeof exposed === 'function') gc = exposed;
    else {
      setFlagsFromString('--expose-gc');
      try {
        gc = runInNewContext('gc') as Gc;
      } finally {
        setFlagsFromString('--no-expose-gc');
      }
    }
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

/** How often {@link bufferGarbageCollector} collects and how; tests pass their own `collect`. */
export interface BufferGarbageOptions {
  /** Bytes between two collections. @default BUFFER_GARBAGE_INTERVAL_BYTES (4 MiB) */
  intervalBytes?: number;
  /** The collection to ask for. @default a full collection of V8's heap, run from a task on this thread */
  collect?: () => void;
}

/** What {@link bufferGarbageCollector} returns. */
export interface BufferGarbageCollector {
  /** Counts `bytes` that went by; asks for a collection when another interval is full. */
  passed(bytes: number): void;
}

/**
 * A counter for the bytes a codec moves on this thread: `passed(bytes)` asks for one full garbage
 * collection each time another `intervalBytes` have gone by, so the large buffers that died in
 * the meantime are freed (see {@link BUFFER_GARBAGE_INTERVAL_BYTES}). For codecs whose work runs
 * off the main thread (worker threads, liblzma's threads), where the main thread has the time.
 * @example
 * ```ts
 * import { bufferGarbageCollector } from '@bentoport/plugin-kit';
 *
 * const garbage = bufferGarbageCollector();
 * for (const chunk of [Buffer.alloc(3 << 20), Buffer.alloc(3 << 20)]) garbage.passed(chunk.length); // one collection
 * ```
 */
export function bufferGarbageCollector(options: BufferGarbageOptions = {}): BufferGarbageCollector {
  const intervalBytes = options.intervalBytes ?? BUFFER_GARBAGE_INTERVAL_BYTES;
  if (!(intervalBytes > 0)) throw new RangeError(`intervalBytes must be positive, got ${String(intervalBytes)}`);
  const collect = options.collect ?? v8DeferredCollection();
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
