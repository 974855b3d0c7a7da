/**
 * The quick profile, part of `pnpm test`: every operation over every transport and registry
 * once, each under a fault the seed picks, and every fault kind at least once. FAULT_SEED picks
 * another sample; FAULT_CASE with FAULT_SEED replays one case exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCaseId, quickSelection, reproduceCommand, type SeededCase } from './cases.js';
import { closeContext, createContext, DEFAULT_SEED, everyCase, formatRecord, siteInputs, siteSkips } from './harness-context.js';
import { knownViolation } from './known-violations.js';
import { formatTotals, totalsOf, writeTotals } from './report.js';
import type { CaseRecord, HarnessContext } from './run-case.js';

const soak = process.env.BENTOPORT_SOAK === '1';
const baseSeed = Number(process.env.FAULT_SEED ?? DEFAULT_SEED);
const single = process.env.FAULT_CASE;
const inputs = siteInputs();
const skips = siteSkips(inputs);
/** FAULT_PROFILE=soak replays one soak case with the soak profile's fault choices and bounds. */
const replaySoak = process.env.FAULT_PROFILE === 'soak';
const cases: SeededCase[] =
  single !== undefined && single !== '' ? [{ ...parseCaseId(single), id: single, seed: baseSeed, profile: replaySoak ? 'soak' : 'quick' }] : quickSelection(baseSeed, everyCase());

describe.skipIf(soak)(`fault harness, quick profile (FAULT_SEED=${baseSeed})`, () => {
  let context: HarnessContext | undefined;
  const records: CaseRecord[] = [];
  beforeAll(async () => {
    if (cases.some((seeded) => skips[seeded.site] === undefined)) context = await createContext(inputs, replaySoak);
  });
  afterAll(async () => {
    if (records.length > 0) {
      const totals = totalsOf(records);
      console.log(formatTotals(totals));
      const written = writeTotals(totals);
      if (written !== undefined) console.log(`totals written to ${written}`);
    }
    await closeContext(context);
  });

  for (const seeded of cases) {
    const skip = skips[seeded.site];
    it.skipIf(skip !== undefined)(`${seeded.id} (seed ${seeded.seed})${skip !== undefined ? `: skipped, ${skip}` : ''}`, async () => {
      const { runCase } = await import('./run-case.js');
      const record = await runCase(context as HarnessContext, seeded);
      records.push(record);
      console.log(formatRecord(record, seeded));
      const unknown = record.violations.filter((violation) => knownViolation(seeded.id, violation.invariant, violation.detail) === undefined);
      expect(unknown, `violations not in known-violations.ts; reproduce: ${reproduceCommand(seeded)}`).toEqual([]);
    });
  }
});
