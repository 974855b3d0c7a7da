/**
 * The targets of issue 18 (set for a 1 GiB bento, 2 cores, median of 3, both layouts), checked on
 * whatever rows ran. A target whose rows did not run (a format left out, pigz not installed) is
 * not printed: a missing row is not a pass.
 */
import { TOOLS } from './bench-references.js';
import type { Check, PerFileCost, Row } from './bench-table.js';

/** Peak RSS every bentoport row must stay under. */
export const RSS_LIMIT_MIB = 128;
/** Per-file cost of our tar export and import. */
export const PER_FILE_LIMIT_MICROSECONDS = 50;

interface SpeedTarget {
  format: string;
  operation: 'export' | 'import';
  tool: string;
  /** bentoport must be at least this many times as fast. */
  atLeast: number;
  /** Our output at most this many times the reference's size. */
  sizeAtMost?: number;
}

const SPEED_TARGETS: readonly SpeedTarget[] = [
  { format: 'tar', operation: 'export', tool: TOOLS.tarExport, atLeast: 1 },
  { format: 'tar', operation: 'import', tool: TOOLS.tarImport, atLeast: 1 },
  { format: 'gz', operation: 'export', tool: TOOLS.pigzExport, atLeast: 1.5 },
  { format: 'gz', operation: 'export', tool: TOOLS.gzipExport, atLeast: 0, sizeAtMost: 1.0005 },
  { format: 'gz', operation: 'import', tool: TOOLS.pigzImport, atLeast: 1 },
  { format: 'zip', operation: 'export', tool: TOOLS.zipExport, atLeast: 2 },
  { format: 'zip', operation: 'import', tool: TOOLS.zipImport, atLeast: 1 },
  { format: 'bento', operation: 'export', tool: TOOLS.bentomlExport, atLeast: 15, sizeAtMost: 1 },
  { format: 'bento', operation: 'import', tool: TOOLS.xzImport, atLeast: 1 },
  { format: 'bz2', operation: 'export', tool: TOOLS.bzip2Export, atLeast: 1, sizeAtMost: 1.001 },
  { format: 'bz2', operation: 'import', tool: TOOLS.bzip2Import, atLeast: 1 },
];

const isOurs = (row: Row): boolean => row.work === 'ours';

function speedChecks(rows: readonly Row[], target: SpeedTarget): Check[] {
  const checks: Check[] = [];
  for (const ours of rows.filter((row) => isOurs(row) && row.format === target.format && row.operation === target.operation)) {
    const reference = rows.find((row) => row.layout === ours.layout && row.format === target.format && row.operation === target.operation && row.tool === target.tool);
    if (reference === undefined) continue;
    const where = `${ours.layout} ${target.format} ${target.operation}`;
    if (target.atLeast > 0) {
      const ratio = reference.seconds / ours.seconds;
      checks.push({ label: `${where}: ${ratio.toFixed(2)}× ${target.tool} (target ≥ ${target.atLeast}×)`, passed: ratio >= target.atLeast });
    }
    if (target.sizeAtMost !== undefined && ours.size !== undefined && reference.size !== undefined) {
      const ratio = ours.size / reference.size;
      checks.push({ label: `${where}: size ${ratio.toFixed(4)}× ${target.tool} (target ≤ ${target.sizeAtMost}×)`, passed: ratio <= target.sizeAtMost });
    }
  }
  return checks;
}

function rssChecks(rows: readonly Row[]): Check[] {
  return rows.filter(isOurs).map((row) => ({
    label: `${row.layout} ${row.format} ${row.operation}${row.tool === 'bentoport' ? '' : ` (${row.tool})`}: peak RSS ${row.maxRssMiB?.toFixed(0) ?? '?'} MiB (target < ${RSS_LIMIT_MIB} MiB)`,
    passed: (row.maxRssMiB ?? Infinity) < RSS_LIMIT_MIB,
  }));
}

/** Network rows: at least as fast as the same-work pipe on the same server, where the bench has one. */
function networkChecks(rows: readonly Row[]): Check[] {
  return rows
    .filter((row) => isOurs(row) && row.transport !== undefined && row.reference?.work === 'same')
    .map((row) => {
      const ratio = (row.reference as Row).seconds / row.seconds;
      return { label: `${row.layout} ${row.format} ${row.operation}: ${ratio.toFixed(2)}× ${(row.reference as Row).tool} (target ≥ 1×)`, passed: ratio >= 1 };
    });
}

function perFileChecks(costs: readonly PerFileCost[]): Check[] {
  return costs
    .filter((cost) => cost.tool === 'bentoport' && cost.format === 'tar')
    .map((cost) => ({
      label: `tar ${cost.operation}: ${cost.microsecondsPerFile.toFixed(0)} µs per file (target ≤ ${PER_FILE_LIMIT_MICROSECONDS} µs)`,
      passed: cost.microsecondsPerFile <= PER_FILE_LIMIT_MICROSECONDS,
    }));
}

/** Every target that the rows allow to check, in the order of the issue. */
export function targetChecks(rows: readonly Row[], costs: readonly PerFileCost[]): Check[] {
  return [...SPEED_TARGETS.flatMap((target) => speedChecks(rows, target)), ...perFileChecks(costs), ...networkChecks(rows), ...rssChecks(rows)];
}
