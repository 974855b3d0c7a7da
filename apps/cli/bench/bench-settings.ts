/**
 * The BENCH_* environment variables of `pnpm bench`, read once. turbo passes them through
 * (`passThroughEnv: ["BENCH_*"]` in turbo.json); a variable that was renamed is refused rather
 * than ignored, because a silently ignored setting is how the old figures stopped reproducing.
 */
import * as path from 'node:path';

/** The two bento shapes the bench generates, each of about BENCH_SIZE_MB. */
export type Layout = 'few-large' | 'many-small';
export const LAYOUTS: readonly Layout[] = ['few-large', 'many-small'];

/** The transports of the network rows, in the order of the table. */
export type NetworkTransport = 'http' | 's3' | 'ftp' | 'sftp';
export const NETWORK_TRANSPORTS: readonly NetworkTransport[] = ['http', 's3', 'ftp', 'sftp'];

export type BenchFormat = 'tar' | 'gz' | 'zip' | 'bento' | 'bz2';
const KNOWN_FORMATS: readonly BenchFormat[] = ['tar', 'gz', 'zip', 'bento', 'bz2'];

/** One entry of BENCH_FORMATS: a format and the compression policy of our export. */
export interface FormatSpec {
  format: BenchFormat;
  /** `auto` when the entry names none. */
  policy: 'auto' | 'max' | 'store';
  /** As written: `gz` or `gz:store`. */
  label: string;
}

export interface BenchSettings {
  /** BENCH_SIZE_MB: payload of each layout in MiB. @default 1024 */
  sizeMiB: number;
  /** BENCH_SMALL_FILES: small source files in the many-small layout. @default 10000 */
  smallFiles: number;
  /** BENCH_LAYOUTS: which layouts to generate and time. @default few-large,many-small */
  layouts: Layout[];
  /** BENCH_ROUNDS: interleaved rounds per row; the table shows the median. @default 3 */
  rounds: number;
  /** BENCH_FORMATS: formats (with an optional `:policy`) of the local rows; `none` for none. @default tar,gz,zip */
  formats: FormatSpec[];
  /** BENCH_SKIP: reference tools to leave out, as named in the table. @default none */
  skip: Set<string>;
  /** BENCH_DIR: parent of the scratch directory. @default the system temp directory */
  scratchParent: string | undefined;
  /** BENCH_OUT: the markdown results file; relative paths are taken from the repository root. @default apps/cli/bench/results.md */
  outFile: string;
  /** BENCH_README=1: also write the results into README.md between the bench markers. @default off */
  writeReadme: boolean;
  /**
   * BENCH_SIGNING=0 leaves out the signing rows: tar export with `sign` and import with
   * `requireSignature`, each against the same operation unsigned (needs ssh-keygen). @default on
   */
  signing: boolean;
  /**
   * BENCH_NETWORK: transports whose rows run, each against its same-work pipe on a server started
   * on 127.0.0.1 (`none` for none); a server that is not installed is left out, and said so.
   * @default http,s3,ftp,sftp
   */
  network: NetworkTransport[];
  /** BENCH_NETWORK_FORMATS: the formats of the network rows (tar-family only: the pipes are tar's). @default tar,gz */
  networkFormats: BenchFormat[];
}

/** Old name → new name; the old ones are refused with this hint. */
const RENAMED: Record<string, string> = { BENCH_RUNS: 'BENCH_ROUNDS', BENCH_SOURCE_FILES: 'BENCH_SMALL_FILES' };

function listOf(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item !== '');
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name}=${raw}: expected a whole number of 1 or more`);
  return value;
}

function parseLayouts(raw: string | undefined): Layout[] {
  const names = listOf(raw ?? LAYOUTS.join(','));
  for (const name of names) {
    if (!LAYOUTS.includes(name as Layout)) throw new Error(`BENCH_LAYOUTS: unknown layout ${name} (known: ${LAYOUTS.join(', ')})`);
  }
  // Generation order is fixed (few-large first) so the per-file cost can use both whatever the order given.
  return LAYOUTS.filter((layout) => names.includes(layout));
}

function parseFormats(raw: string | undefined): FormatSpec[] {
  if (raw?.trim() === 'none') return [];
  return listOf(raw ?? 'tar,gz,zip').map((label) => {
    const [format, policy = 'auto'] = label.split(':');
    if (!KNOWN_FORMATS.includes(format as BenchFormat)) throw new Error(`BENCH_FORMATS: unknown format ${format} (known: ${KNOWN_FORMATS.join(', ')})`);
    if (policy !== 'auto' && policy !== 'max' && policy !== 'store') throw new Error(`BENCH_FORMATS: unknown policy ${policy} in ${label} (auto, max, store)`);
    return { format: format as BenchFormat, policy, label };
  });
}

/** The variables the network rows replaced: refused, with what to set now. */
const REPLACED_BY_NETWORK = ['BENCH_HTTP', 'BENCH_S3', 'BENCH_FTP', 'BENCH_SFTP'];

function parseNetwork(raw: string | undefined): NetworkTransport[] {
  if (raw?.trim() === 'none') return [];
  const names = listOf(raw ?? NETWORK_TRANSPORTS.join(','));
  for (const name of names) {
    if (!NETWORK_TRANSPORTS.includes(name as NetworkTransport)) throw new Error(`BENCH_NETWORK: unknown transport ${name} (known: ${NETWORK_TRANSPORTS.join(', ')}, or none)`);
  }
  return NETWORK_TRANSPORTS.filter((transport) => names.includes(transport));
}

function parseNetworkFormats(raw: string | undefined): BenchFormat[] {
  const tarFamily: readonly BenchFormat[] = ['tar', 'gz', 'bz2', 'bento'];
  const names = listOf(raw ?? 'tar,gz');
  for (const name of names) {
    if (!tarFamily.includes(name as BenchFormat)) throw new Error(`BENCH_NETWORK_FORMATS: ${name} is not one a tar pipe reproduces (${tarFamily.join(', ')})`);
  }
  return names as BenchFormat[];
}

/** Reads the settings from `env`; `repositoryRoot` anchors a relative BENCH_OUT (turbo runs the bench in apps/cli). */
export function readBenchSettings(env: NodeJS.ProcessEnv, repositoryRoot: string): BenchSettings {
  for (const [old, current] of Object.entries(RENAMED)) {
    if (env[old] !== undefined) throw new Error(`${old} was renamed ${current}: set ${current}=${env[old]} instead`);
  }
  for (const name of REPLACED_BY_NETWORK) {
    if (env[name] !== undefined) throw new Error(`${name} was replaced by BENCH_NETWORK (every transport by default): set BENCH_NETWORK=${name.slice(6).toLowerCase()} for that transport alone`);
  }
  const layouts = parseLayouts(env.BENCH_LAYOUTS);
  if (layouts.length === 0) throw new Error('BENCH_LAYOUTS names no layout');
  const formats = parseFormats(env.BENCH_FORMATS);
  if (formats.length === 0 && env.BENCH_FORMATS?.trim() !== 'none') throw new Error('BENCH_FORMATS names no format (none: only the network rows)');
  return {
    sizeMiB: positiveInteger(env, 'BENCH_SIZE_MB', 1024),
    smallFiles: positiveInteger(env, 'BENCH_SMALL_FILES', 10_000),
    layouts,
    rounds: positiveInteger(env, 'BENCH_ROUNDS', 3),
    formats,
    skip: new Set(listOf(env.BENCH_SKIP ?? '')),
    scratchParent: env.BENCH_DIR || undefined,
    outFile: path.resolve(repositoryRoot, env.BENCH_OUT || path.join('apps', 'cli', 'bench', 'results.md')),
    writeReadme: env.BENCH_README === '1',
    signing: env.BENCH_SIGNING !== '0',
    network: parseNetwork(env.BENCH_NETWORK),
    networkFormats: parseNetworkFormats(env.BENCH_NETWORK_FORMATS),
  };
}
