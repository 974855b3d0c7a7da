import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT, SIGNAL_EXIT } from '../../../apps/cli/src/exit-codes.js';
import { MAIN_HELP } from '../../../apps/cli/src/help-text.js';
import { REPOSITORY_ROOT, markdownFiles } from './markdown-blocks.js';

/**
 * The words a table row's "when" must hold for each EXIT constant: what the README says the code
 * means, tied to the name the code gives it.
 */
const MEANING_OF: Record<keyof typeof EXIT, RegExp> = {
  ok: /\bsuccess\b/,
  failed: /\bfailed\b/,
  usage: /\bcommand line\b/,
  internal: /\binternal error\b/,
  hangup: /\bSIGHUP\b/,
  interrupted: /\bSIGINT\b/,
  terminated: /\bSIGTERM\b/,
  closedPipe: /\bEPIPE\b/,
};

interface ExitRow {
  line: number;
  code: number;
  when: string;
}

/** The rows of every table whose header starts `| code | when |` and whose codes are numbers, in a markdown file. */
function exitCodeTables(file: string): ExitRow[][] {
  const lines = readFileSync(path.join(REPOSITORY_ROOT, file), 'utf8').split('\n');
  const tables: ExitRow[][] = [];
  lines.forEach((text, index) => {
    if (!/^\|\s*code\s*\|\s*when\s*\|/.test(text)) return;
    const rows: ExitRow[] = [];
    for (let row = index + 2; row < lines.length && (lines[row] ?? '').startsWith('|'); row++) {
      const cells = (lines[row] ?? '').split(/(?<!\\)\|/).map((cell) => cell.trim());
      rows.push({ line: row + 1, code: /^\d+$/.test(cells[1] ?? '') ? Number(cells[1]) : Number.NaN, when: cells[2] ?? '' });
    }
    // Tables of error codes (`ERR_…`) share the header; an exit-code table's first row is a number.
    if (rows.length > 0 && !Number.isNaN(rows[0]!.code)) tables.push(rows);
  });
  return tables;
}

const tables = markdownFiles().flatMap((file) => exitCodeTables(file).map((rows) => ({ file, rows })));

describe('exit-code tables match apps/cli/src/exit-codes.ts', () => {
  it('the CLI README has one', () => {
    expect(tables.map((table) => table.file)).toContain(path.join('apps', 'cli', 'README.md'));
  });

  for (const { file, rows } of tables) {
    it(`${file}:${(rows[0]?.line ?? 2) - 2}: every row is an EXIT code with its meaning`, () => {
      const byValue = new Map(Object.entries(EXIT).map(([key, value]) => [value as number, key as keyof typeof EXIT]));
      for (const row of rows) {
        const key = byValue.get(row.code);
        expect(key, `${file}:${row.line}: ${row.code} is not an EXIT code`).toBeDefined();
        expect(row.when, `${file}:${row.line}: ${row.code} (EXIT.${key})`).toMatch(MEANING_OF[key!]);
      }
      expect(new Set(rows.map((row) => row.code)).size, `${file}: a code appears twice`).toBe(rows.length);
    });

    it(`${file}:${(rows[0]?.line ?? 2) - 2}: every EXIT code and every signal has its row`, () => {
      for (const [key, code] of Object.entries(EXIT)) {
        expect(rows.map((row) => row.code), `${file}: no row for EXIT.${key} (${code})`).toContain(code);
      }
      for (const [signal, code] of Object.entries(SIGNAL_EXIT)) {
        const row = rows.find((candidate) => candidate.code === code);
        expect(row?.when.split(/[:(]/)[0], `${file}: the row of ${code} does not start with ${signal}`).toContain(signal);
      }
      // A signal a row starts with is one the CLI handles, with that code.
      for (const row of rows) {
        const named = /^(SIG[A-Z]+)/.exec(row.when)?.[1];
        if (named !== undefined) expect(SIGNAL_EXIT[named as keyof typeof SIGNAL_EXIT], `${file}:${row.line}`).toBe(row.code);
      }
    });
  }
});

describe("bentoport --help's exit codes match apps/cli/src/exit-codes.ts", () => {
  it('names every EXIT code and no other', () => {
    const paragraph = /^Exit codes:([\s\S]*?)\n\n/m.exec(MAIN_HELP)?.[1] ?? '';
    const named = new Set([...paragraph.matchAll(/\b\d+\b/g)].map((match) => Number(match[0])));
    expect([...named].sort((a, b) => a - b)).toEqual(Object.values(EXIT).sort((a, b) => a - b));
    for (const [signal, code] of Object.entries(SIGNAL_EXIT)) expect(paragraph).toMatch(new RegExp(`${code} ${signal}\\b`));
  });
});
