/**
 * `pnpm bench`: bentoport's export and import against the tools BentoML users know, on a
 * seeded, realistic bento (one large float32 weights file and thousands of small sources).
 *
 * Environment: BENCH_SIZE_MB (default 1024), BENCH_SOURCE_FILES (3000), BENCH_RUNS (3),
 * BENCH_FTP=1 / BENCH_SFTP=1 (rows over vsftpd / OpenSSH sshd, as root), BENCH_S3=1 (rows over moto S3 beside `aws s3 cp`), BENCH_FORMATS (tar,gz,zip; also bento (tar+xz), bz2, and `format:policy` such as bento:store or
 * gz:max for a compression policy other than auto), BENCH_DIR (scratch parent, default the system temp directory),
 * BENCH_SKIP (reference tools to leave out, comma-separated, as named in the table: `python xztar` takes
 * ten minutes a run at 1 GiB). References depend on the format only: `bento:store` after `bento` reuses them.
 * The references (GNU tar, Python's shutil) are spawned here only: the product never does.
 */
import { execFile } from 'node:child_process';
import { link, mkdir, mkdtemp, readdir, readlink, rm, stat, symlink, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { writeSampleBento } from '@bentoport/test-utils';
import { benchFtpSftp } from './bench-ftp-sftp.js';
import { benchHttp } from './bench-http.js';
import { benchS3 } from './bench-s3.js';
import { settleDisk } from './settle-disk.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const workerPath = path.join(here, 'bench-worker.js');

const SIZE_MB = Number(process.env.BENCH_SIZE_MB ?? 1024);
const SOURCE_FILES = Number(process.env.BENCH_SOURCE_FILES ?? 3000);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
type BenchFormat = 'tar' | 'gz' | 'zip' | 'bento' | 'bz2';
/** `format` or `format:policy`; the policy (auto when absent) goes to the export. */
const FORMAT_SPECS = (process.env.BENCH_FORMATS ?? 'tar,gz,zip').split(',').map((spec) => spec.trim());
// The network rows run each format once, with the default policy: `gz,gz:store` is one format there.
const FORMATS = [...new Set(FORMAT_SPECS.map((spec) => spec.split(':')[0]))] as BenchFormat[];
const MIB = 1024 * 1024;
const RSS_LIMIT_MIB = 200;

interface Sample {
  seconds: number;
  maxRssMiB: number | undefined;
  size: number | undefined;
}

interface Row {
  format: string;
  operation: 'export' | 'import';
  tool: string;
  /** Medians over the runs. */
  seconds: number;
  maxRssMiB: number | undefined;
  size: number | undefined;
  reference?: Row;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

function summarize(samples: Sample[]): Pick<Row, 'seconds' | 'maxRssMiB' | 'size'> {
  const rss = samples.map((sample) => sample.maxRssMiB).filter((value): value is number => value !== undefined);
  return {
    seconds: median(samples.map((sample) => sample.seconds)),
    maxRssMiB: rss.length ? Math.max(...rss) : undefined,
    size: samples.at(-1)?.size,
  };
}

/** Run a reference command under Python, which reports wall time and the children's peak RSS. */
async function timedCommand(command: string[], cwd: string): Promise<Sample> {
  const script =
    'import resource, subprocess, sys, time\n' +
    't = time.perf_counter()\n' +
    'subprocess.run(sys.argv[1:], check=True)\n' +
    'print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)';
  await settleDisk();
  const { stdout } = await run('python3', ['-c', script, ...command], { cwd, maxBuffer: 1 << 20 });
  const [seconds, rssKiB] = stdout.trim().split(/\s+/).map(Number) as [number, number];
  return { seconds, maxRssMiB: rssKiB / 1024, size: undefined };
}

/** Python's own shutil call (BentoML's path), timed inside the interpreter. */
async function timedPython(body: string, args: string[]): Promise<Sample> {
  const script =
    'import resource, shutil, sys, time, os\n' +
    't = time.perf_counter()\n' +
    `result = ${body}\n` +
    'print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, os.path.getsize(result) if isinstance(result, str) else 0)';
  await settleDisk();
  const { stdout } = await run('python3', ['-c', script, ...args], { maxBuffer: 1 << 20 });
  const [seconds, rssKiB, size] = stdout.trim().split(/\s+/).map(Number) as [number, number, number];
  return { seconds, maxRssMiB: rssKiB / 1024, size: size || undefined };
}

async function timedWorker(args: string[]): Promise<Sample & { sha256: string }> {
  await settleDisk();
  const { stdout } = await run(process.execPath, [workerPath, ...args], { maxBuffer: 1 << 20 });
  const result = JSON.parse(stdout.trim().split('\n').at(-1) as string) as { seconds: number; maxRssKiB: number; size: number; sha256: string };
  return { seconds: result.seconds, maxRssMiB: result.maxRssKiB / 1024, size: result.size, sha256: result.sha256 };
}

/**
 * What BentoML archives: the bento directory with its models under `models/`. Built with hard
 * links (archivers only emit link entries for links inside the tree, so each file is stored once).
 */
async function buildReferenceTree(source: string, target: string): Promise<void> {
  await mkdir(target, { recursive: true });
  await chmod(target, (await stat(source)).mode & 0o7777);
  for (const entry of await readdir(source, { withFileTypes: true })) {
    const from = path.join(source, entry.name);
    const to = path.join(target, entry.name);
    if (entry.isDirectory()) await buildReferenceTree(from, to);
    else if (entry.isSymbolicLink()) await symlink(await readlink(from), to);
    else await link(from, to);
  }
}

const fileSize = async (file: string) => (await stat(file)).size;

const hasCommand = async (name: string): Promise<boolean> =>
  run('sh', ['-c', `command -v ${name}`]).then(
    () => true,
    () => false,
  );

function formatRow(row: Row, payloadBytes: number): string[] {
  const reference = row.reference;
  const speed = reference ? `${(reference.seconds / row.seconds).toFixed(2)}x` : '';
  const sizeRatio = reference && row.size !== undefined && reference.size !== undefined ? `${(row.size / reference.size).toFixed(4)}` : '';
  return [
    row.format,
    row.operation,
    row.tool,
    row.seconds.toFixed(2),
    (payloadBytes / 1e6 / row.seconds).toFixed(1),
    row.maxRssMiB === undefined ? '' : row.maxRssMiB.toFixed(0),
    row.size === undefined ? '' : `${(row.size / MIB).toFixed(1)} MiB`,
    reference ? `${speed} vs ${reference.tool}` : '',
    sizeRatio,
  ];
}

function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  console.log(line(headers));
  console.log(line(widths.map((width) => '-'.repeat(width))));
  for (const row of rows) console.log(line(row));
}

async function bench(scratch: string): Promise<boolean> {
  const home = path.join(scratch, 'home');
  const sourceAllowance = SOURCE_FILES * 1500 + 64 * 1024;
  const weightsBytes = Math.max(MIB, SIZE_MB * MIB - sourceAllowance);
  console.log(`Generating a ${SIZE_MB} MiB sample bento (${SOURCE_FILES} source files, seed 1) in ${scratch} …`);
  const generated = Date.now();
  const sample = await writeSampleBento(home, {
    models: [{ name: 'bench-model', version: 'bench1weights001', weightsBytes }],
    sourceFiles: SOURCE_FILES,
  });
  const payload = sample.bytes;
  console.log(`  ${sample.files} files, ${(payload / MIB).toFixed(1)} MiB, in ${((Date.now() - generated) / 1000).toFixed(1)} s`);
  const tree = path.join(scratch, 'reference-tree');
  await buildReferenceTree(sample.bentoPath, tree);
  await buildReferenceTree(sample.models[0]?.path as string, path.join(tree, 'models', 'bench-model', 'bench1weights001'));

  const rows: Row[] = [];
  const extension = { tar: 'tar', gz: 'tar.gz', zip: 'zip', bento: 'bento', bz2: 'tar.bz2' } as const;
  const skipped = new Set((process.env.BENCH_SKIP ?? '').split(',').map((tool) => tool.trim()).filter((tool) => tool !== ''));
  const referenceRowsByFormat = new Map<BenchFormat, Row[]>();
  for (const spec of FORMAT_SPECS) {
    const format = spec.split(':')[0] as BenchFormat;
    const policy = spec.split(':')[1];
    console.log(`\n[${spec}]`);
    const archive = path.join(scratch, `ours.${extension[format]}`);
    const ourExport: Sample[] = [];
    const ourImport: Sample[] = [];
    for (let round = 0; round < RUNS; round++) {
      await rm(archive, { force: true });
      ourExport.push(await timedWorker(['export', home, sample.bentoTag, archive, format, ...(policy ? [policy] : [])]));
      const freshHome = path.join(scratch, `import-${round}`);
      ourImport.push(await timedWorker(['import', freshHome, archive, format]));
      await rm(freshHome, { recursive: true, force: true });
      process.stdout.write(`  bentoport run ${round + 1}/${RUNS}: export ${ourExport.at(-1)?.seconds.toFixed(2)} s, import ${ourImport.at(-1)?.seconds.toFixed(2)} s\n`);
    }

    // References on the same tree, same machine, same run.
    const references: { tool: string; operation: 'export' | 'import'; sample: () => Promise<Sample> }[] = [];
    const refArchive = path.join(scratch, `reference.${extension[format]}`);
    const extractInto = path.join(scratch, 'reference-extract');
    // tar with the matching (de)compressor; -I runs xz on every core, pigz (if installed) likewise.
    const tarCompressors: Record<BenchFormat, string[]> = { tar: [], gz: ['gzip'], zip: [], bento: ['xz -T0'], bz2: ['bzip2'] };
    if (format === 'gz' && (await hasCommand('pigz'))) tarCompressors.gz.push('pigz');
    if (format === 'gz' && !(await hasCommand('pigz'))) console.log('  (pigz not installed: apt-get install pigz for the tar -I pigz row)');
    if (format !== 'zip') {
      const programs = format === 'tar' ? [undefined] : tarCompressors[format];
      for (const program of programs) {
        references.push({
          tool: program === undefined ? 'tar cf' : program === 'gzip' ? 'tar czf' : `tar -I '${program}' cf`,
          operation: 'export',
          sample: async () => {
            const result = await timedCommand(['tar', ...(program === undefined ? [] : ['-I', program]), '-cf', refArchive, '-C', tree, '.'], scratch);
            return { ...result, size: await fileSize(refArchive) };
          },
        });
      }
    }
    const shutilFormat = { tar: 'tar', gz: 'gztar', zip: 'zip', bento: 'xztar', bz2: 'bztar' }[format];
    references.push({
      tool: `python ${shutilFormat}`,
      operation: 'export',
      sample: () => timedPython(`shutil.make_archive(sys.argv[1], '${shutilFormat}', root_dir=sys.argv[2])`, [path.join(scratch, 'python-reference'), tree]),
    });
    if (format !== 'zip') {
      const decompressor = { tar: undefined, gz: 'gzip', zip: undefined, bento: 'xz', bz2: 'bzip2' }[format];
      references.push({
        tool: decompressor === undefined ? 'tar xf' : `tar -I ${decompressor} xf`,
        operation: 'import',
        sample: async () => {
          await rm(extractInto, { recursive: true, force: true });
          await mkdir(extractInto);
          return timedCommand(['tar', ...(decompressor === undefined ? [] : ['-I', decompressor]), '-xf', archive, '-C', extractInto], scratch);
        },
      });
    } else {
      references.push({
        tool: 'python unpack zip',
        operation: 'import',
        sample: async () => {
          await rm(extractInto, { recursive: true, force: true });
          return timedPython("shutil.unpack_archive(sys.argv[1], sys.argv[2], 'zip')", [archive, extractInto]);
        },
      });
    }
    const cachedReferences = referenceRowsByFormat.get(format);
    const referenceRows: Row[] = cachedReferences ?? [];
    for (const reference of cachedReferences === undefined ? references.filter((candidate) => !skipped.has(candidate.tool)) : []) {
      const samples: Sample[] = [];
      for (let round = 0; round < RUNS; round++) {
        samples.push(await reference.sample());
        await rm(refArchive, { force: true });
        await rm(extractInto, { recursive: true, force: true });
        for (const name of await readdir(scratch)) if (name.startsWith('python-reference')) await rm(path.join(scratch, name), { force: true });
      }
      referenceRows.push({ format, operation: reference.operation, tool: reference.tool, ...summarize(samples) });
      console.log(`  ${reference.tool}: ${median(samples.map((s) => s.seconds)).toFixed(2)} s`);
    }
    if (cachedReferences === undefined) referenceRowsByFormat.set(format, referenceRows);
    else console.log(`  (references of ${format} from above)`);
    await rm(archive, { force: true });
    const primary = (operation: 'export' | 'import') => referenceRows.find((row) => row.operation === operation);
    const label = policy ? `${format}:${policy}` : format;
    // The headline reference for bento exports is BentoML's own path (Python xztar).
    const exportReference = format === 'bento' ? referenceRows.find((row) => row.tool === 'python xztar') : primary('export');
    rows.push({ format: label, operation: 'export', tool: 'bentoport', ...summarize(ourExport), reference: exportReference });
    if (cachedReferences === undefined) rows.push(...referenceRows.filter((row) => row.operation === 'export'));
    rows.push({ format: label, operation: 'import', tool: 'bentoport', ...summarize(ourImport), reference: primary('import') });
    if (cachedReferences === undefined) rows.push(...referenceRows.filter((row) => row.operation === 'import'));
  }

  // BENCH_HTTP=1: the same bento over HTTP (nginx WebDAV) beside curl; off by default.
  const http = process.env.BENCH_HTTP === '1'
    ? await benchHttp({ scratch, home, tag: sample.bentoTag, tree, formats: FORMATS.filter((format): format is 'tar' | 'gz' | 'zip' => format === 'tar' || format === 'gz' || format === 'zip'), runs: RUNS, timedWorker, timedCommand, summarize })
    : { rows: [], checks: [] };
  rows.push(...http.rows);
  // BENCH_FTP=1 / BENCH_SFTP=1: over vsftpd and OpenSSH beside curl and sftp; off by default.
  const servers = await benchFtpSftp({ scratch, home, tag: sample.bentoTag, formats: FORMATS, runs: RUNS, timedCommand, summarize });
  rows.push(...servers.rows);
  // BENCH_S3=1: export to / import from a moto S3 server beside `aws s3 cp`; off by default.
  const s3 = await benchS3({ scratch, home, tag: sample.bentoTag, formats: FORMATS, runs: RUNS, timedWorker, timedCommand, summarize });
  rows.push(...s3.rows);

  console.log(`\nPayload ${(payload / MIB).toFixed(1)} MiB (${sample.files} files), median of ${RUNS} run(s); MB/s = payload / wall time; RSS = peak of the process; for tar rows it is the largest of tar and gzip, with a floor of the Python wrapper that forked them (Linux keeps ru_maxrss across exec).\n`);
  printTable(
    ['format', 'op', 'tool', 'wall s', 'MB/s', 'peak RSS MiB', 'output', 'speed vs ref', 'size vs ref'],
    rows.map((row) => formatRow(row, payload)),
  );

  const checks: [string, boolean | undefined][] = [...http.checks, ...servers.checks, ...s3.checks];
  for (const row of rows.filter((candidate) => candidate.tool === 'bentoport')) {
    checks.push([`${row.format} ${row.operation}: peak RSS ${row.maxRssMiB?.toFixed(0)} MiB < ${RSS_LIMIT_MIB} MiB`, (row.maxRssMiB ?? Infinity) < RSS_LIMIT_MIB]);
  }
  const gzExport = rows.find((row) => row.tool === 'bentoport' && row.format === 'gz' && row.operation === 'export');
  const tarCzf = rows.find((row) => row.tool === 'tar czf');
  if (gzExport && tarCzf) {
    checks.push([`gz export ${gzExport.seconds.toFixed(2)} s <= tar czf ${tarCzf.seconds.toFixed(2)} s`, gzExport.seconds <= tarCzf.seconds]);
    if (gzExport.size !== undefined && tarCzf.size !== undefined) {
      checks.push([`gz size ${(gzExport.size / tarCzf.size).toFixed(4)}x <= 1.01x tar czf`, gzExport.size <= tarCzf.size * 1.01]);
    }
  }
  // Issue 4's targets for BentoML's native format, when those rows ran.
  const bentoExport = rows.find((row) => row.tool === 'bentoport' && row.format === 'bento' && row.operation === 'export');
  const pythonXz = rows.find((row) => row.tool === 'python xztar');
  if (bentoExport && pythonXz) {
    checks.push([`bento export ${(pythonXz.seconds / bentoExport.seconds).toFixed(2)}x as fast as python xztar (>= 4x)`, pythonXz.seconds >= 4 * bentoExport.seconds]);
    if (bentoExport.size !== undefined && pythonXz.size !== undefined) {
      checks.push([`bento size ${(bentoExport.size / pythonXz.size).toFixed(4)}x <= 1.02x python xztar`, bentoExport.size <= pythonXz.size * 1.02]);
    }
  }
  // Issue 4: `store` exports at half the speed of a plain tar export or better; compressed
  // imports at 0.9x of tar x with the matching decompressor or better.
  const tarExport = rows.find((row) => row.tool === 'bentoport' && row.format === 'tar' && row.operation === 'export');
  for (const label of ['bento:store', 'gz:store']) {
    const storeExport = rows.find((row) => row.tool === 'bentoport' && row.format === label && row.operation === 'export');
    if (storeExport && tarExport) {
      const ratio = tarExport.seconds / storeExport.seconds;
      checks.push([`${label} export at ${(ratio * 100).toFixed(0)}% of the speed of a plain tar export (>= 50%)`, ratio >= 0.5]);
    }
  }
  for (const row of rows.filter((candidate) => candidate.tool === 'bentoport' && candidate.operation === 'import' && /^(bento|gz)(:|$)/.test(candidate.format))) {
    const reference = row.reference;
    if (reference !== undefined && reference.tool.startsWith('tar ')) {
      checks.push([`${row.format} import ${(reference.seconds / row.seconds).toFixed(2)}x as fast as ${reference.tool} (>= 0.9x)`, reference.seconds >= 0.9 * row.seconds]);
    }
  }
  console.log('');
  for (const [label, passed] of checks) console.log(`${passed ? 'PASS' : 'FAIL'}  ${label}`);
  return checks.every(([, passed]) => passed);
}

const scratch = await mkdtemp(path.join(process.env.BENCH_DIR ?? tmpdir(), 'bentoport-bench-'));
const cleanup = () => rm(scratch, { recursive: true, force: true });
process.once('SIGINT', () => {
  void cleanup().finally(() => process.exit(130));
});
try {
  process.exitCode = (await bench(scratch)) ? 0 : 1;
} catch (error) {
  console.error(`Benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
