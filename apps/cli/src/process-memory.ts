import { setFlagsFromString } from 'node:v8';

/** V8 flags that size the young generation; one given by the user wins over ours. */
const YOUNG_GENERATION_FLAGS = ['--semi-space-growth-factor', '--max-semi-space-size', '--min-semi-space-size', '--max-heap-size'];

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
 * the user set it.
 *
 * Worker threads end the hold, and we let them: V8 raises the factor back to 2 each time it makes
 * a heap (`Heap::ConfigureHeap`), a worker's too, so an operation that starts one (an import's
 * hash thread, the xz and bz2 pools) grows its young generation again from then on. Setting the
 * flag again as each worker came online (the `worker_threads` diagnostics channel) made a 1 GiB
 * HTTP import peak at 141 MiB against 114 (the sockets' chunks, promoted sooner, waited for full
 * collections) and a 10,000-file zip import 5–10% slower, for 2–7 MiB less on local imports.
 */
export function tuneProcessMemory(execArgv: readonly string[] = process.execArgv, nodeOptions: string | undefined = process.env.NODE_OPTIONS): void {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].map((flag) => flag.replace(/_/g, '-'));
  if (given.some((flag) => YOUNG_GENERATION_FLAGS.some((name) => flag === name || flag.startsWith(`${name}=`)))) return;
  setFlagsFromString('--semi-space-growth-factor=1');
}
