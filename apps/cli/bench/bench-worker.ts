/**
 * Runs ONE bentoport export or import in its own process, so the benchmark can read this
 * process's peak RSS. Prints one JSON line: { seconds, maxRssKiB, size, sha256 }.
 *
 *   node dist/bench-worker.js export <home> <tag> <out> <format> [auto|max|store]
 *   node dist/bench-worker.js import <home> <archive> <format>
 */
import { performance } from 'node:perf_hooks';
import { createBentoport } from '@bentoport/core';
import { bz2Format } from '@bentoport/format-bz2';
import { tarFormat } from '@bentoport/format-tar';
import { xzFormat } from '@bentoport/format-xz';
import { zipFormat } from '@bentoport/format-zip';
import { transportsFor } from '../src/transport-loading.js';

const [operation, home, ...rest] = process.argv.slice(2);
if ((operation !== 'export' && operation !== 'import') || home === undefined) {
  console.error('usage: bench-worker export <home> <tag> <out> <format> | import <home> <archive> <format>');
  process.exit(2);
}
// The transports as the CLI loads them: only the one the URL names (see transport-loading.ts).
const transports = await transportsFor(operation === 'export' ? rest.slice(1, 2) : rest.slice(0, 1), {}, process.env);
const bentoport = createBentoport({ home, formats: [xzFormat(), tarFormat(), zipFormat(), bz2Format()], transports });
const started = performance.now();
let size: number;
let sha256: string;
if (operation === 'export') {
  const [tag, out, format, compression] = rest as [string, string, string, 'auto' | 'max' | 'store' | undefined];
  ({ size, sha256 } = await bentoport.exportBento(tag, out, format, compression ? { compression } : {}));
} else {
  const [archive, format] = rest as [string, string];
  ({ size, sha256 } = await bentoport.importBento(archive, format));
}
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ seconds, maxRssKiB: process.resourceUsage().maxRSS, size, sha256 }));
