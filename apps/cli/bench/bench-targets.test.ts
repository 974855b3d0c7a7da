import { describe, expect, it } from 'vitest';
import { TOOLS } from './bench-references.js';
import type { Row } from './bench-table.js';
import { targetChecks } from './bench-targets.js';

const row = (tool: string, work: string, seconds: number, extra: Partial<Row> = {}): Row => ({
  layout: 'few-large',
  format: 'gz',
  operation: 'export',
  tool,
  work,
  seconds,
  maxRssMiB: 50,
  size: 1000,
  load: 0,
  ...extra,
});

describe('targetChecks', () => {
  it('checks speed against the named reference and size against the size reference', () => {
    const rows = [row('bentoport', 'ours', 2), row(TOOLS.pigzExport, 'same', 3.2), row(TOOLS.gzipExport, 'same', 9, { size: 999 })];
    const checks = targetChecks(rows, []);
    expect(checks).toContainEqual({ label: `few-large gz export: 1.60× ${TOOLS.pigzExport} (target ≥ 1.5×)`, passed: true });
    expect(checks).toContainEqual({ label: `few-large gz export: size 1.0010× ${TOOLS.gzipExport} (target ≤ 1.0005×)`, passed: false });
  });

  it('prints no target whose reference did not run', () => {
    const labels = targetChecks([row('bentoport', 'ours', 2)], []).map((check) => check.label);
    expect(labels.some((label) => label.includes('pigz'))).toBe(false);
  });

  it('holds every bentoport row, network ones too, under 128 MiB', () => {
    const checks = targetChecks([row('bentoport', 'ours', 1, { maxRssMiB: 130 }), row('bentoport http', 'ours', 1, { format: 'tar', maxRssMiB: 100 })], []);
    expect(checks.filter((check) => check.label.includes('peak RSS')).map((check) => check.passed)).toEqual([false, true]);
  });

  it('checks a network row only against a same-work pipe', () => {
    const pipe = row('curl | tar', 'same', 2, { format: 'tar', operation: 'import' });
    const oneFile = row('curl -o file', 'less: moves one file', 1, { format: 'tar', operation: 'import' });
    const checks = targetChecks(
      [
        row('bentoport', 'ours', 1, { format: 'tar http', operation: 'import', transport: 'http', reference: pipe }),
        row('bentoport', 'ours', 3, { format: 'tar ftp', operation: 'import', transport: 'ftp', reference: oneFile }),
        // A local row with a same-work reference is checked by its own target, not as a network row.
        row('bentoport', 'ours', 1, { format: 'zip:store', operation: 'import', reference: pipe }),
      ],
      [],
    );
    expect(checks.filter((check) => !check.label.includes('RSS'))).toEqual([{ label: 'few-large tar http import: 2.00× curl | tar (target ≥ 1×)', passed: true }]);
  });

  it('checks the per-file cost of our tar rows', () => {
    const cost = { format: 'tar', operation: 'import' as const, tool: 'bentoport', fewLargeSeconds: 1, manySmallSeconds: 2, microsecondsPerFile: 51 };
    expect(targetChecks([], [cost])).toEqual([{ label: 'tar import: 51 µs per file (target ≤ 50 µs)', passed: false }]);
  });
});
