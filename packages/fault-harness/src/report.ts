import { writeFileSync } from 'node:fs';
import { INVARIANTS, type Invariant } from './cases.js';
import { KNOWN_VIOLATIONS, knownViolation } from './known-violations.js';
import type { CaseRecord } from './run-case.js';
import { reproduceCommand } from './cases.js';

/** The totals of a run: injections per operation × site × fault, violations per invariant. */
export interface Totals {
  cases: number;
  injections: number;
  /** `operation/site/fault` → runs, injections (the fault took effect), violations. */
  matrix: Record<string, { runs: number; injected: number; violations: number }>;
  violationsPerInvariant: Record<Invariant, { known: number; unknown: number }>;
  violations: { case: string; seed: number; invariant: Invariant; known: boolean; detail: string; reproduce: string }[];
  knownNotSeen: string[];
}

export function totalsOf(records: CaseRecord[]): Totals {
  const matrix: Totals['matrix'] = {};
  const perInvariant = Object.fromEntries(Object.keys(INVARIANTS).map((key) => [key, { known: 0, unknown: 0 }])) as Totals['violationsPerInvariant'];
  const violations: Totals['violations'] = [];
  for (const record of records) {
    const cell = (matrix[record.id] ??= { runs: 0, injected: 0, violations: 0 });
    cell.runs++;
    if (record.injected) cell.injected++;
    cell.violations += record.violations.length;
    for (const violation of record.violations) {
      const known = knownViolation(record.id, violation.invariant, violation.detail) !== undefined;
      perInvariant[violation.invariant][known ? 'known' : 'unknown']++;
      violations.push({
        case: record.id,
        seed: record.seed,
        invariant: violation.invariant,
        known,
        detail: violation.detail,
        reproduce: reproduceCommand({ id: record.id, seed: record.seed, operation: record.operation as never, site: record.site as never, fault: record.fault, profile: record.profile }),
      });
    }
  }
  const knownNotSeen = KNOWN_VIOLATIONS.filter((entry) => !records.some((record) => record.violations.some((violation) => knownViolation(record.id, violation.invariant, violation.detail) === entry))).map(
    (entry) => `${entry.case}#${entry.invariant}`,
  );
  return { cases: records.length, injections: records.filter((record) => record.injected).length, matrix, violationsPerInvariant: perInvariant, violations, knownNotSeen };
}

/** The totals as a table for the log. */
export function formatTotals(totals: Totals): string {
  const lines = [`fault-harness totals: ${totals.cases} cases, ${totals.injections} injections that took effect`, '', 'operation/site/fault                          runs  injected  violations'];
  for (const [cell, counts] of Object.entries(totals.matrix).sort()) {
    lines.push(`${cell.padEnd(44)} ${String(counts.runs).padStart(5)} ${String(counts.injected).padStart(9)} ${String(counts.violations).padStart(11)}`);
  }
  lines.push('', 'invariant           known  unknown');
  for (const [invariant, counts] of Object.entries(totals.violationsPerInvariant)) {
    lines.push(`${invariant.padEnd(18)} ${String(counts.known).padStart(6)} ${String(counts.unknown).padStart(8)}`);
  }
  if (totals.knownNotSeen.length > 0) lines.push('', `known violations not seen in this run (fixed, or not drawn by this seed): ${totals.knownNotSeen.join(', ')}`);
  return lines.join('\n');
}

/** Write the totals as JSON where FAULT_REPORT (or BENTOPORT_SOAK_REPORT) says. */
export function writeTotals(totals: Totals, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env.FAULT_REPORT ?? env.BENTOPORT_SOAK_REPORT;
  if (file === undefined || file === '') return undefined;
  writeFileSync(file, `${JSON.stringify(totals, null, 2)}\n`);
  return file;
}
