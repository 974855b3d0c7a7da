import { subscribe } from 'node:diagnostics_channel';
import { setFlagsFromString } from 'node:v8';
import type { Worker } from 'node:worker_threads';

/** V8 flags that size the young generation; one given by the user wins over ours. */
const YOUNG_GENERATION_FLAGS = ['--semi-space-growth-factor', '--max-semi-space-size', '--min-semi-space-size', '--max-heap-size'];

const HOLD_YOUNG_GENERATION = '--semi-space-growth-factor=1';

/**
 * Sets {@link HOLD_YOUNG_GENERATION} again once each worker thread of this process is online.
 * Why: V8 raises the growth factor back to 2 each time it configures a heap (`Heap::ConfigureHeap`,
 * "if (semi_space_growth_factor < 2) semi_space_growth_factor = 2"), which it does for every worker's
 * isolate, and the flag is the process's. The first worker (an import's hash thread, the xz and
 * bz2 pools) thus undid ours: a 1 GiB zip import of 10,000 files grew its young generation to 16
 * MiB per semi-space all the same. That is also why the flag cannot be given on node's command
 * line: the main isolate's heap is configured after it is read. Node publishes each new worker
 * on the `worker_threads` diagnostics channel; its `online` event comes after its heap was made.
 */
function holdAcrossWorkers(): void {
  subscribe('worker_threads', (message) => {
    (message as { worker: Worker }).worker.once('online', () => setFlagsFromString(HOLD_YOUNG_GENERATION));
  });
}

/**
 * Keeps V8's young generation at its starting size (1 MiB per semi-space) for the life of the
 * process: `--semi-space-growth-factor=1`. The CLI owns its process, so it may; the library never
 * touches V8's flags of the process it runs in.
 *
 * Why: creating thousands of small files allocates many short-lived objects, and V8 then doubles
 * its young generation up to 16 MiB per semi-space, up to 19 MiB more resident memory that it
 * keeps to the end. A 1 GiB bento of 10,000 files peaked at 141–158 MiB in a zip export and
 * 139–142 MiB in a zip import; with the young generation held, 125–128 and 129–136 MiB, in the
 * same time within the rounds' spread. V8 reads this flag each time it would grow the young
 * generation, so setting it in a running process takes effect (`--max-semi-space-size` does not:
 * it is read once, when the heap is made).
 *
 * A young-generation flag already given in `NODE_OPTIONS` or on node's command line is left as
 * the user set it. Worker threads would undo the flag: see {@link holdAcrossWorkers}.
 */
export function tuneProcessMemory(execArgv: readonly string[] = process.execArgv, nodeOptions: string | undefined = process.env.NODE_OPTIONS): void {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].map((flag) => flag.replace(/_/g, '-'));
  if (given.some((flag) => YOUNG_GENERATION_FLAGS.some((name) => flag === name || flag.startsWith(`${name}=`)))) return;
  setFlagsFromString(HOLD_YOUNG_GENERATION);
  holdAcrossWorkers();
}
