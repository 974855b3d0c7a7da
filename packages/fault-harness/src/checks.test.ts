import { describe, expect, it } from 'vitest';
import type { ChildResult } from './cli-child.js';
import { allCases, caseId, FAULTS, OPERATIONS, quickSelection, REGISTRIES, TRANSPORTS } from './cases.js';
import { abilities } from './harness-context.js';
import { checkProcess } from './process-checks.js';
import { REMOTE_TEMPORARY_NAME } from './sites.js';
import type { Violation } from './run-case.js';

const ended = (overrides: Partial<ChildResult>): ChildResult => ({
  args: [],
  code: 0,
  signal: null,
  stdout: '',
  stderr: '',
  durationMs: 10,
  timedOut: false,
  injected: false,
  ...overrides,
});

function violationsOf(result: ChildResult, action?: Parameters<typeof checkProcess>[1]['action'], secrets: string[] = []): Violation[] {
  const found: Violation[] = [];
  checkProcess(result, { label: 'run', secrets, action, hardTimeoutMs: 1000 }, (invariant, detail) => found.push({ invariant, detail }));
  return found;
}

describe('the process checks', () => {
  it('accept a one-line error with exit 1, and progress lines around it', () => {
    expect(violationsOf(ended({ code: 1, stderr: '{"type":"bytes","bytesDone":1}\nError: [bentos] `import` failed: no\n' }))).toEqual([]);
  });

  it('flag a stack trace, several error lines, an undocumented exit code and a leaked secret', () => {
    expect(violationsOf(ended({ code: 1, stderr: 'Error: x\n    at run (file.js:1:1)\n' })).map((violation) => violation.invariant)).toEqual(['d-exit-output', 'd-exit-output']);
    expect(violationsOf(ended({ code: 3, stderr: 'Error: x\n' })).map((violation) => violation.invariant)).toEqual(['d-exit-output']);
    expect(violationsOf(ended({ stdout: 'ftp://u:p%40ss@host/' }), undefined, ['p@ss']).map((violation) => violation.invariant)).toEqual(['f-secrets']);
  });

  it('want 143 after SIGTERM (or 0 when it came too late), never death by the signal', () => {
    expect(violationsOf(ended({ code: 143, injected: true, stderr: 'Error: interrupted by SIGTERM\n' }), 'SIGTERM')).toEqual([]);
    expect(violationsOf(ended({ code: 0, injected: true }), 'SIGTERM')).toEqual([]);
    expect(violationsOf(ended({ code: null, signal: 'SIGTERM', injected: true, stderr: '{"type":"bytes","bytesDone":1}\n' }), 'SIGTERM').map((violation) => violation.invariant)).toEqual(['d-exit-output']);
    expect(violationsOf(ended({ code: null, signal: 'SIGHUP', injected: true, stdout: 'Bento(tag="a:b") pulled' }), 'SIGHUP').map((violation) => violation.invariant)).toEqual(['d-exit-output']);
    expect(violationsOf(ended({ code: 1, injected: true, stderr: 'Error: x\n' }), 'SIGINT').map((violation) => violation.detail)).toEqual(['run: exit code 1 after SIGINT, expected 130']);
  });

  it('let a signal kill the process while Node starts (nothing written yet) or as it exits after the command finished', () => {
    expect(violationsOf(ended({ code: null, signal: 'SIGTERM', injected: true }), 'SIGTERM')).toEqual([]);
    expect(violationsOf(ended({ code: null, signal: 'SIGINT', injected: true, stdout: 'Bento(tag="a:b") pulled from oci://h/r.\n', stderr: '{"type":"bytes","bytesDone":1}\n' }), 'SIGINT')).toEqual([]);
    // Not a signal the harness sent: always a violation.
    expect(violationsOf(ended({ code: null, signal: 'SIGSEGV', injected: true }), 'SIGTERM').map((violation) => violation.invariant)).toEqual(['d-exit-output']);
  });

  it('report a run killed at the hard timeout as out of bounds, and nothing else about it', () => {
    expect(violationsOf(ended({ code: null, signal: 'SIGKILL', timedOut: true }))).toEqual([{ invariant: 'e-bound', detail: 'run: still running after 1000 ms, killed by the harness' }]);
  });
});

describe('the case matrix', () => {
  const all = allCases(abilities);

  it('has every operation over every site it applies to, and every fault somewhere', () => {
    for (const operation of OPERATIONS) {
      const sites = operation === 'push' || operation === 'pull' ? REGISTRIES : TRANSPORTS;
      for (const site of sites) expect(all.some((spec) => spec.operation === operation && spec.site === site)).toBe(true);
    }
    for (const fault of FAULTS) expect(all.some((spec) => spec.fault === fault)).toBe(true);
    expect(all.some((spec) => spec.site === 'fs' && spec.fault.startsWith('net-'))).toBe(false);
  });

  it('picks the same quick cases for the same seed, covering every cell and every fault', () => {
    const first = quickSelection(16, all);
    expect(quickSelection(16, all)).toEqual(first);
    expect(new Set(first.map((seeded) => `${seeded.operation}/${seeded.site}`)).size).toBe(TRANSPORTS.length * 4 + REGISTRIES.length * 2);
    expect(new Set(first.map((seeded) => seeded.fault))).toEqual(new Set(FAULTS));
    expect(first.map(caseId)).not.toEqual(quickSelection(17, all).map(caseId));
  });
});

describe('remote temporary names', () => {
  it('match what two-phase writers use, and nothing else', () => {
    expect(REMOTE_TEMPORARY_NAME.test('.svc-v1.bento.bentoport-3f9a0c12d4e5.tmp')).toBe(true);
    expect(REMOTE_TEMPORARY_NAME.test('.svc-v1.bento.bentoport-host.1234-3f9a0c12.tmp')).toBe(true);
    expect(REMOTE_TEMPORARY_NAME.test('svc-v1.bento')).toBe(false);
    expect(REMOTE_TEMPORARY_NAME.test('.svc-v1.bento.tmp')).toBe(false);
  });
});
