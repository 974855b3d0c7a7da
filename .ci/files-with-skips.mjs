// Prints, one per line, the test files (relative to the repository root) in which a vitest run
// skipped anything, read from that run's JSON report (--reporter=json).
//
//   node .ci/files-with-skips.mjs REPORT.json
//
// .ci/run's second pass, with every test server, runs only these: the first pass, without the
// servers, already ran every other file on the same build, and what the second pass changes (the
// servers, CI=true) reaches only tests that skip without them. Files that skip a test whatever
// the machine (a conformance suite leaving out a capability its plugin does not declare) are run
// again too: the report does not say why a test was skipped. Exits 1, printing nothing, when the
// report is missing or unreadable: the caller then runs every file.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const SKIPPED = new Set(['skipped', 'pending', 'todo']);

const [reportPath] = process.argv.slice(2);
let report;
try {
  report = JSON.parse(readFileSync(reportPath, 'utf8'));
} catch (error) {
  console.error(`no vitest report to read at ${reportPath}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
if (!Array.isArray(report.testResults)) {
  console.error(`${reportPath} is not a vitest JSON report (no testResults)`);
  process.exit(1);
}
const files = report.testResults
  .filter((file) => SKIPPED.has(file.status) || file.assertionResults.some((test) => SKIPPED.has(test.status)))
  .map((file) => path.relative(process.cwd(), file.name))
  .sort();
for (const file of files) console.log(file);
