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
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createBentoport } from '@bentoport/core';
import { sshSigner, sshVerifier } from '@bentoport/signer-ssh';
import { pluginsForCommand } from '../src/command-plugins.js';
import { discoverPlugins } from '../src/plugin-discovery.js';
import { tuneProcessMemory } from '../src/process-memory.js';

// As the CLI sets up its process (cli.ts), so that this process's peak RSS is the CLI's.
tuneProcessMemory();
const [operation, home, ...rest] = process.argv.slice(2);
if ((operation !== 'export' && operation !== 'import') || home === undefined) {
  console.error('usage: bench-worker export <home> <tag> <out> <format> | import <home> <archive> <format>');
  process.exit(2);
}
// The plugins as the CLI loads them for the same command: the transport of the URL and the format
// named (see command-plugins.ts).
const [target, format] = operation === 'export' ? [rest[1], rest[2]] : [rest[0], rest[1]];
const env = process.env;
const cwd = process.cwd();
const cliDirectory = path.dirname(fileURLToPath(import.meta.url));
const plugins = await pluginsForCommand({
  group: 'bentos',
  command: operation,
  positionals: operation === 'export' ? ['tag', target ?? '.'] : [target ?? '-'],
  values: format ? { format } : {},
  env,
  cwd,
  catalog: () => discoverPlugins({ env, cwd, cliDirectory }),
});
const bentoport = createBentoport({ home, ...plugins });
const started = performance.now();
let size: number;
let sha256: string;
if (operation === 'export') {
  const [tag, out, format, compression] = rest as [string, string, string, 'auto' | 'max' | 'store' | undefined];
  const sign = env.BENCH_SIGN_KEY ? { sign: sshSigner({ keyFile: env.BENCH_SIGN_KEY }) } : {};
  ({ size, sha256 } = await bentoport.exportBento(tag, out, format, { ...(compression ? { compression } : {}), ...sign }));
} else {
  const [archive, format] = rest as [string, string];
  const requireSignature = env.BENCH_ALLOWED_SIGNERS ? { requireSignature: { verifier: sshVerifier({ allowedSignersFile: env.BENCH_ALLOWED_SIGNERS }) } } : {};
  ({ size, sha256 } = await bentoport.importBento(archive, format, requireSignature));
}
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ seconds, maxRssKiB: process.resourceUsage().maxRSS, size, sha256 }));
