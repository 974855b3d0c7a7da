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
import { fsTransport } from '@bentoport/transport-fs';
import { ftpTransport } from '@bentoport/transport-ftp';
import { httpTransport } from '@bentoport/transport-http';
import { s3Transport } from '@bentoport/transport-s3';
import { sftpTransport } from '@bentoport/transport-sftp';

const [operation, home, ...rest] = process.argv.slice(2);
if ((operation !== 'export' && operation !== 'import') || home === undefined) {
  console.error('usage: bench-worker export <home> <tag> <out> <format> | import <home> <archive> <format>');
  process.exit(2);
}
const bentoport = createBentoport({ home, formats: [xzFormat(), tarFormat(), zipFormat(), bz2Format()], transports: [fsTransport(), httpTransport(), ftpTransport(), sftpTransport(), s3Transport()] });
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
