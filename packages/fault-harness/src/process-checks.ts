import { isProgressLine, type ChildResult, type ProcessAction } from './cli-child.js';
import type { Invariant } from './cases.js';

export type Violate = (invariant: Invariant, detail: string) => void;

/**
 * The exit code each process fault must end the CLI with when it lands while the operation runs
 * (128 + the signal's number; 141, SIGPIPE's, for a closed stdout or stderr), as the CLI's help
 * documents. Exit 0 is fine too: the fault came after the work was done.
 */
export const SIGNAL_EXIT_CODES: Partial<Record<ProcessAction, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129, 'close-stderr': 141, 'close-stdout': 141 };

const STACK_OR_INTERNAL = /^\s+at\s|AssertionError|Uncaught|node:internal|UnhandledPromiseRejection|ERR_UNHANDLED|\[object Object\]/;
/** Node's own warnings (`(node:123) Warning: …`) are not bentoport's error line. */
const NODE_WARNING = /^\(node:\d+\)|^\(Use `node --trace-/;

/** The stderr lines that are messages (not progress events, not blank). */
export function messageLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.trim() !== '' && !isProgressLine(line));
}

/**
 * Whether a death by the injected signal came outside the part of the process bentoport controls,
 * where no handler can exist: while Node itself was starting (not a byte written: no progress
 * line, no message; ~60-100 ms, longer on a loaded machine) or as it exited after the command had
 * finished (its result printed on stdout, no error). Either way the shell's `$?` is 128+n as for
 * a handled signal, and the other invariants still check that nothing was changed or left. The
 * CLI's handlers from its first line on are tested by apps/cli/src/cli-early-signal.test.ts.
 */
export function diedOutsideTheRun(result: ChildResult): boolean {
  const starting = result.stdout === '' && result.stderr === '';
  const finished = result.stdout.endsWith('\n') && messageLines(result.stderr).length === 0;
  return starting || finished;
}

/**
 * Check one finished child: its bound (e), what it printed and its exit code (d), and that no
 * secret leaked (f). `action` is the process fault it was given, if any.
 */
export function checkProcess(result: ChildResult, options: { label: string; secrets: string[]; action?: ProcessAction; hardTimeoutMs: number }, violate: Violate): void {
  const { label } = options;
  const output = result.stdout + result.stderr;
  for (const secret of options.secrets) {
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      if (form !== '' && output.includes(form)) violate('f-secrets', `${label}: the output contains a secret (${form.slice(0, 3)}…)`);
    }
  }
  if (result.timedOut) {
    violate('e-bound', `${label}: still running after ${options.hardTimeoutMs} ms, killed by the harness`);
    return;
  }
  const injected = result.injected ? options.action : undefined;
  if (injected === 'SIGKILL') return;
  const expected = injected === undefined ? undefined : SIGNAL_EXIT_CODES[injected];
  if (result.signal !== null && injected !== undefined && result.signal === injected && diedOutsideTheRun(result)) {
    // Nothing of ours ran yet, or all of it had: see diedOutsideTheRun.
  } else if (result.signal !== null) {
    violate('d-exit-output', `${label}: died of ${result.signal}${expected !== undefined ? `, expected it handled with exit code ${expected}` : ''}`);
  } else if (expected !== undefined && result.code !== 0 && result.code !== expected) {
    violate('d-exit-output', `${label}: exit code ${result.code} after ${injected}, expected ${expected}`);
  } else if (expected === undefined && result.code !== 0 && result.code !== 1) {
    violate('d-exit-output', `${label}: exit code ${result.code}, expected 0 or 1`);
  }
  if (injected === 'close-stderr') return;
  const lines = messageLines(result.stderr);
  const stack = lines.filter((line) => STACK_OR_INTERNAL.test(line));
  if (stack.length > 0) violate('d-exit-output', `${label}: a stack trace or internal error on stderr: ${stack[0]?.trim()}`);
  if (result.code !== 0 && result.code !== null && result.signal === null) {
    const errors = lines.filter((line) => !NODE_WARNING.test(line) && !/^warning\b/i.test(line));
    if (errors.length !== 1) {
      violate('d-exit-output', `${label}: ${errors.length} lines of error output (exit ${result.code}), expected one: ${errors.slice(0, 3).join(' | ').slice(0, 300)}`);
    }
  }
}

/** A short account of a child's end for the case log. */
export function describeEnd(result: ChildResult): string {
  const how = result.timedOut ? 'timed out' : result.signal !== null ? `signal ${result.signal}` : `exit ${result.code}`;
  const message = messageLines(result.stderr).slice(-1)[0]?.slice(0, 240) ?? '';
  return `${how} after ${result.durationMs} ms${result.injected ? ` (fault at ${result.injectedAtMs} ms, ${result.progressLinesAtFault} progress lines)` : ''}${message !== '' ? `: ${message}` : ''}`;
}
