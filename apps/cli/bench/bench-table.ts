/**
 * The results of `pnpm bench` as markdown: a header saying where and how they were measured, one
 * table row per tool, the per-file cost of each tool from the two layouts, and the targets'
 * PASS/FAIL lines. The same text goes to BENCH_OUT and, with BENCH_README=1, into the README.
 */
import type { Layout, NetworkTransport } from './bench-settings.js';

export interface Row {
  layout: Layout;
  /** `tar`, `gz:store`, `tar http`, … */
  format: string;
  operation: 'export' | 'import';
  tool: string;
  /** `ours` for bentoport, `same` for a same-work reference, else what the reference leaves out. */
  work: string;
  /** Medians over the rounds. */
  seconds: number;
  maxRssMiB: number | undefined;
  size: number | undefined;
  load: number | undefined;
  /** The transport of a network row (its format reads `tar http`, …); none for a local file. */
  transport?: NetworkTransport;
  /** The reference a bentoport row's speed (and size) ratio is taken against. */
  reference?: Row;
}

/** What one generated layout held. */
export interface LayoutFacts {
  layout: Layout;
  files: number;
  bytes: number;
}

export interface RunFacts {
  date: Date;
  cores: number;
  cpuModel: string;
  nodeVersion: string;
  platform: string;
  sizeMiB: number;
  rounds: number;
  layouts: LayoutFacts[];
  loadAtStart: readonly number[];
  loadAtEnd: readonly number[];
  /** Why these figures are not the 1 GiB × 3 rounds measurement, when they are not. */
  caveat: string | undefined;
}

/** Per-file cost of one tool from the two layouts. */
export interface PerFileCost {
  format: string;
  operation: 'export' | 'import';
  tool: string;
  fewLargeSeconds: number;
  manySmallSeconds: number;
  microsecondsPerFile: number;
}

export interface Check {
  label: string;
  passed: boolean;
}

const MIB = 1024 * 1024;

/**
 * The cost of a file beyond its bytes: the many-small time, less the few-large time scaled to the
 * many-small layout's bytes (the cost of the bytes), divided by the extra files. Both layouts are
 * about BENCH_SIZE_MB, so the scaling is a small correction.
 */
export function perFileMicroseconds(fewLarge: { seconds: number; files: number; bytes: number }, manySmall: { seconds: number; files: number; bytes: number }): number {
  const byteCost = fewLarge.seconds * (manySmall.bytes / fewLarge.bytes);
  return ((manySmall.seconds - byteCost) / (manySmall.files - fewLarge.files)) * 1e6;
}

/** Per-file cost for every tool timed in both layouts. */
export function perFileCosts(rows: readonly Row[], layouts: readonly LayoutFacts[]): PerFileCost[] {
  const few = layouts.find((facts) => facts.layout === 'few-large');
  const many = layouts.find((facts) => facts.layout === 'many-small');
  if (few === undefined || many === undefined || many.files <= few.files) return [];
  const costs: PerFileCost[] = [];
  for (const manyRow of rows.filter((row) => row.layout === 'many-small')) {
    const fewRow = rows.find((row) => row.layout === 'few-large' && row.format === manyRow.format && row.operation === manyRow.operation && row.tool === manyRow.tool);
    if (fewRow === undefined) continue;
    costs.push({
      format: manyRow.format,
      operation: manyRow.operation,
      tool: manyRow.tool,
      fewLargeSeconds: fewRow.seconds,
      manySmallSeconds: manyRow.seconds,
      microsecondsPerFile: perFileMicroseconds({ ...few, seconds: fewRow.seconds }, { ...many, seconds: manyRow.seconds }),
    });
  }
  return costs;
}

const mebibytes = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MiB`;
const escapeCell = (text: string): string => text.replace(/\|/g, '\\|');
const loadText = (load: readonly number[]): string => load.map((value) => value.toFixed(2)).join(' / ');

function markdownTable(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(escapeCell).join(' | ')} |`;
  return [line(headers), `|${headers.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}

function rowCells(row: Row, payloadBytes: number): string[] {
  const reference = row.reference;
  const speed = reference ? `${(reference.seconds / row.seconds).toFixed(2)}× vs ${reference.tool}` : '';
  const sizeRatio = reference && row.size !== undefined && reference.size !== undefined ? `${(row.size / reference.size).toFixed(4)}` : '';
  return [
    row.layout,
    row.format,
    row.operation,
    row.tool,
    row.work,
    row.seconds.toFixed(2),
    (payloadBytes / 1e6 / row.seconds).toFixed(1),
    row.maxRssMiB === undefined ? '' : row.maxRssMiB.toFixed(0),
    row.size === undefined ? '' : mebibytes(row.size),
    speed,
    sizeRatio,
    row.load === undefined ? '' : row.load.toFixed(2),
  ];
}

function header(facts: RunFacts): string[] {
  const layouts = facts.layouts.map((layout) => `${layout.layout} ${mebibytes(layout.bytes)} in ${layout.files} files`).join('; ');
  return [
    `Measured ${facts.date.toISOString().replace(/\.\d+Z$/, 'Z')} by \`pnpm bench\` on ${facts.cores} cores (${facts.cpuModel}), Node ${facts.nodeVersion}, ${facts.platform}.`,
    `Size: BENCH_SIZE_MB=${facts.sizeMiB} per layout (${layouts}); median of ${facts.rounds} interleaved round(s).`,
    `Load average (1, 5, 15 min): ${loadText(facts.loadAtStart)} at the start, ${loadText(facts.loadAtEnd)} at the end.`,
    ...(facts.caveat === undefined ? [] : ['', `**${facts.caveat}**`]),
  ];
}

const NOTES = [
  'MB/s = the layout\'s payload / wall time. Speed = reference time / ours (above 1: bentoport is faster); size = our output / the reference\'s. ',
  'work: `same` references read, archive, write and hash as bentoport does (`… | tee OUT | sha256sum`, `tee /dev/fd/3 < ARCHIVE | tar xf -` with fd 3 on `sha256sum`); ',
  '`less: …` ones skip what is named, and a ratio against them flatters the reference. Import references extract bentoport\'s archive of the same round. Our export also fsyncs the archive it writes (the file transport\'s default); `tee OUT` does not. Over SFTP it has the server fsync it (fsync@openssh.com), and so does the pipe (`ssh cat && sync`: `cat > FILE && sync FILE` on the server). ',
  'Peak RSS: the bentoport process; for a reference the largest process of its pipeline, never below the Python wrapper that times it (Linux keeps ru_maxrss across exec). load = the 1-minute load average as each run started (median over rounds; it includes the bench\'s own previous run).',
].join('');

const PER_FILE_NOTE =
  'µs/file = (many-small time − few-large time × many-small bytes / few-large bytes) / (many-small files − few-large files): the time a file costs beyond its bytes.';

/** The whole results document; `payloadBytes` gives each layout's MB/s. */
export function renderResults(facts: RunFacts, rows: readonly Row[], costs: readonly PerFileCost[], checks: readonly Check[]): string {
  const payload = new Map(facts.layouts.map((layout) => [layout.layout, layout.bytes]));
  const sections = [
    ...header(facts),
    '',
    markdownTable(
      ['layout', 'format', 'op', 'tool', 'work', 'wall s', 'MB/s', 'peak RSS MiB', 'output', 'speed', 'size', 'load'],
      rows.map((row) => rowCells(row, payload.get(row.layout) ?? 0)),
    ),
    '',
    NOTES,
  ];
  if (costs.length > 0) {
    sections.push(
      '',
      markdownTable(
        ['format', 'op', 'tool', 'few-large s', 'many-small s', 'µs/file'],
        costs.map((cost) => [cost.format, cost.operation, cost.tool, cost.fewLargeSeconds.toFixed(2), cost.manySmallSeconds.toFixed(2), cost.microsecondsPerFile.toFixed(0)]),
      ),
      '',
      PER_FILE_NOTE,
    );
  }
  if (checks.length > 0) {
    sections.push('', 'Targets of issue 18 (set for a 1 GiB bento, 3 rounds, 2 cores):', '', ...checks.map((check) => `- ${check.passed ? 'PASS' : 'FAIL'} ${check.label}`));
  }
  return `${sections.join('\n')}\n`;
}
