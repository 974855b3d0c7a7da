/**
 * Runs ONE bentoport export or import in its own process, so the benchmark can read this
 * process's peak RSS. Prints one JSON line: { seconds, maxRssKiB, size, sha256 }.
 *
 *   node dist/bench-worker.js export <home> <tag> <out> <format> [auto|max|store]
 *   node dist/bench-worker.js import <home> <archive> <format>
 *
 * BENCH_SIGN_KEY=FILE signs the export (`sign`); BENCH_ALLOWED_SIGNERS=FILE makes the import
 * require a signature (`requireSignature`): the signing rows.
 */
import { tuneProcessMemory } from '../src/process-memory.js';

// As the CLI sets up its process (cli.ts): the flags first, then the engine and plugins with
// import(), so that loading them already runs under the same flags and this process's peak RSS is
// the CLI's.
tuneProcessMemory();
const { runBenchOperation } = await import('./bench-operation.js');
await runBenchOperation(process.argv.slice(2));
