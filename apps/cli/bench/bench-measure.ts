/**
 * One timed run of a reference command or of bentoport (in its own process), with what the table
 * reports of it: wall time, peak RSS, output size and the machine's load when it started.
 */
import { execFile } from 'node:child_process';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { settleDisk } from './settle-disk.js';

const run = promisify(execFile);
const workerPath = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bench-worker.js');

export interface Sample {
  seconds: number;
  /** Peak resident set size of the timed process (for a command: the largest of its descendants). */
  maxRssMiB: number | undefined;
  /** Bytes written, where the run writes an archive. */
  size: number | undefined;
  /** The 1-minute load average when the run started: high values mean a busy neighbour (or the previous run). */
  load?: number;
}

/** The 1-minute load average, read after the disk has settled so that it describes the run about to start. */
const loadNow = (): number => loadavg()[0] ?? 0;

/**
 * Runs a reference command under Python, which reports wall time and the children's peak RSS
 * (`RUSAGE_CHILDREN` covers every process of a pipeline, since the shell waits for them all).
 */
export async function timedCommand(command: string[], cwd: string): Promise<Sample> {
  const script =
    'import resource, subprocess, sys, time\n' +
    't = time.perf_counter()\n' +
    'subprocess.run(sys.argv[1:], check=True)\n' +
    'print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)';
  await settleDisk();
  const load = loadNow();
  const { stdout } = await run('python3', ['-c', script, ...command], { cwd, maxBuffer: 1 << 20 });
  const [seconds, rssKiB] = stdout.trim().split(/\s+/).map(Number) as [number, number];
  return { seconds, maxRssMiB: rssKiB / 1024, size: undefined, load };
}

/** Runs one bentoport export or import in `dist/bench-worker.js`, whose own peak RSS is exact. */
export async function timedWorker(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Sample & { sha256: string }> {
  await settleDisk();
  const load = loadNow();
  const { stdout } = await run(process.execPath, [workerPath, ...args], { maxBuffer: 1 << 20, env: { ...process.env, ...env } });
  const result = JSON.parse(stdout.trim().split('\n').at(-1) as string) as { seconds: number; maxRssKiB: number; size: number; sha256: string };
  return { seconds: result.seconds, maxRssMiB: result.maxRssKiB / 1024, size: result.size, sha256: result.sha256, load };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** A row's figures from its rounds: median time and load, the highest RSS, the last size. */
export function summarize(samples: Sample[]): { seconds: number; maxRssMiB: number | undefined; size: number | undefined; load: number | undefined } {
  const rss = samples.map((sample) => sample.maxRssMiB).filter((value): value is number => value !== undefined);
  const loads = samples.map((sample) => sample.load).filter((value): value is number => value !== undefined);
  return {
    seconds: median(samples.map((sample) => sample.seconds)),
    maxRssMiB: rss.length ? Math.max(...rss) : undefined,
    size: samples.at(-1)?.size,
    load: loads.length ? median(loads) : undefined,
  };
}

/**
 * How much longer `slower[i]` took than `base[i]`, as a share: the geometric mean of the per-round
 * ratios, minus 1. Each round's pair ran back to back, so what drifts across rounds (the disk, a
 * neighbour's load) cancels in its ratio; over an even number of rounds taking turns at going
 * first (see {@link inTurn}), so does what the order itself costs. Medians of each side do neither.
 */
export function pairedOverhead(slower: readonly Sample[], base: readonly Sample[]): number {
  if (slower.length !== base.length || slower.length === 0) throw new Error(`pairedOverhead: ${slower.length} and ${base.length} samples, expected the same number, at least one`);
  const logRatios = slower.map((sample, round) => Math.log(sample.seconds / (base[round] as Sample).seconds));
  return Math.exp(logRatios.reduce((sum, value) => sum + value, 0) / logRatios.length) - 1;
}

/** Runs `ours` then `theirs`, or the other way round: odd rounds let the references go first. */
export async function inTurn(oursFirst: boolean, ours: () => Promise<void>, theirs: () => Promise<void>): Promise<void> {
  if (oursFirst) {
    await ours();
    await theirs();
  } else {
    await theirs();
    await ours();
  }
}
