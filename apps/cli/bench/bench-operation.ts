/** The operation bench-worker.ts runs, loaded once its process is set up as the CLI's. */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createBentoport, type Bentoport } from '@bentoport/core';
import { sshSigner, sshVerifier } from '@bentoport/signer-ssh';
import { pluginsForCommand } from '../src/command-plugins.js';
import { discoverPlugins } from '../src/plugin-discovery.js';

const USAGE = 'usage: bench-worker export <home> <tag> <out> <format> | import <home> <archive> <format>';

/** The engine with the plugins the CLI loads for the same command: the URL's transport and the format named (see command-plugins.ts). */
async function engineFor(operation: 'export' | 'import', home: string, target: string | undefined, format: string | undefined): Promise<Bentoport> {
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
  return createBentoport({ home, ...plugins });
}

/** `tag` exported to `out`, signed when BENCH_SIGN_KEY names a key. */
function exportOnce(bentoport: Bentoport, [tag, out, format, compression]: string[]): Promise<{ size: number; sha256: string }> {
  const sign = process.env.BENCH_SIGN_KEY ? { sign: sshSigner({ keyFile: process.env.BENCH_SIGN_KEY }) } : {};
  const policy = compression ? { compression: compression as 'auto' | 'max' | 'store' } : {};
  return bentoport.exportBento(tag as string, out as string, format as string, { ...policy, ...sign });
}

/** `archive` imported, its signature required when BENCH_ALLOWED_SIGNERS names a file. */
function importOnce(bentoport: Bentoport, [archive, format]: string[]): Promise<{ size: number; sha256: string }> {
  const allowedSigners = process.env.BENCH_ALLOWED_SIGNERS;
  const requireSignature = allowedSigners ? { requireSignature: { verifier: sshVerifier({ allowedSignersFile: allowedSigners }) } } : {};
  return bentoport.importBento(archive as string, format as string, requireSignature);
}

/** Runs the operation `args` name and prints its JSON line (see bench-worker.ts). */
export async function runBenchOperation(args: readonly string[]): Promise<void> {
  const [operation, home, ...rest] = args;
  if ((operation !== 'export' && operation !== 'import') || home === undefined) {
    console.error(USAGE);
    process.exit(2);
  }
  const [target, format] = operation === 'export' ? [rest[1], rest[2]] : [rest[0], rest[1]];
  const bentoport = await engineFor(operation, home, target, format);
  const started = performance.now();
  const { size, sha256 } = operation === 'export' ? await exportOnce(bentoport, rest) : await importOnce(bentoport, rest);
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ seconds, maxRssKiB: process.resourceUsage().maxRSS, size, sha256 }));
}
