/**
 * The soak profile, off by default: BENTOPORT_SOAK=1 runs BENTOPORT_SOAK_INJECTIONS cases
 * (default 1000) drawn by seed from every applicable operation × site × fault, for at most
 * BENTOPORT_SOAK_MINUTES (default 120), then prints the totals and writes them as JSON to
 * BENTOPORT_SOAK_REPORT (or FAULT_REPORT) when given.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reproduceCommand, soakCase, type SeededCase } from './cases.js';
import { closeContext, createContext, DEFAULT_SEED, everyCase, formatRecord, siteInputs, siteSkips } from './harness-context.js';
import { knownViolation } from './known-violations.js';
import { formatTotals, totalsOf, writeTotals } from './report.js';
import { runCase, type CaseRecord, type HarnessContext } from './run-case.js';

const soak = process.env.BENTOPORT_SOAK === '1';
const baseSeed = Number(process.env.FAULT_SEED ?? DEFAULT_SEED);
const injections = Math.max(1, Number(process.env.BENTOPORT_SOAK_INJECTIONS ?? 1000));
const minutes = Math.max(1, Number(process.env.BENTOPORT_SOAK_MINUTES ?? 120));
const inputs = siteInputs();
const skips = siteSkips(inputs);
const available = everyCase().filter((spec) => skips[spec.site] === undefined);
const skipped = [...new Set(everyCase().filter((spec) => skips[spec.site] !== undefined).map((spec) => `${spec.site}: ${skips[spec.site]}`))];

describe.skipIf(!soak)(`fault harness, soak profile (FAULT_SEED=${baseSeed}, ${injections} injections, at most ${minutes} min)`, () => {
  let context: HarnessContext | undefined;
  const records: CaseRecord[] = [];
  beforeAll(async () => {
    for (const line of skipped) console.log(`[fault-harness] skipped ${line}`);
    if (available.length > 0) context = await createContext(inputs, true);
  });
  afterAll(async () => {
    const totals = totalsOf(records);
    console.log(formatTotals(totals));
    const written = writeTotals(totals);
    if (written !== undefined) console.log(`totals written to ${written}`);
    await closeContext(context);
  });

  it.skipIf(available.length === 0)('every injection keeps the invariants (or is a known violation)', async () => {
    const deadline = Date.now() + minutes * 60_000;
    const unknown: string[] = [];
    for (let index = 0; index < injections && Date.now() < deadline; index++) {
      const seeded: SeededCase = soakCase(baseSeed, index, available);
      const record = await runCase(context as HarnessContext, seeded);
      records.push(record);
      console.log(`#${index + 1}/${injections} ${formatRecord(record, seeded)}`);
      for (const violation of record.violations) {
        if (knownViolation(seeded.id, violation.invariant, violation.detail) === undefined) unknown.push(`${seeded.id} ${violation.invariant}: ${violation.detail} (${reproduceCommand(seeded)})`);
      }
    }
    expect(unknown).toEqual([]);
  }, (minutes + 10) * 60_000);
});
