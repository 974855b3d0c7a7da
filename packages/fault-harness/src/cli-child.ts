import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FaultProxy } from '@bentoport/test-utils';

/** The built CLI: the harness runs exactly what users run (the root test script builds first). */
export const CLI_PATH = fileURLToPath(new URL('../../../apps/cli/dist/cli.js', import.meta.url));

/** What a process fault does to the child once its trigger fires. */
export type ProcessAction = 'SIGKILL' | 'SIGTERM' | 'SIGINT' | 'SIGHUP' | 'close-stderr' | 'close-stdout';

/**
 * When a process fault fires: after a delay, after the n-th progress line the child prints
 * (`--progress json`), or once the fault proxy has forwarded n bytes.
 */
export type Trigger = { kind: 'delay'; ms: number } | { kind: 'progress'; lines: number } | { kind: 'bytes'; bytes: number; proxy: FaultProxy };

export interface ChildOptions {
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Killed with SIGKILL after this long, and reported as out of bounds. */
  hardTimeoutMs: number;
  uid?: number;
  gid?: number;
  cwd?: string;
  /** A process fault and when it fires. */
  fault?: { action: ProcessAction; trigger: Trigger };
}

export interface ChildResult {
  args: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Killed by the harness at the hard timeout. */
  timedOut: boolean;
  /** Whether the process fault fired before the child exited. */
  injected: boolean;
  /** Milliseconds after the start when the fault fired. */
  injectedAtMs?: number;
  /** Progress lines (JSON on stderr) seen before the fault fired. */
  progressLinesAtFault?: number;
}

/** Whether a stderr line is one of the `--progress json` events rather than a message. */
export function isProgressLine(line: string): boolean {
  return line.startsWith('{"type":');
}

/** Run `node cli.js …args`, inject the process fault when its trigger fires, and collect everything. */
export function runCli(options: ChildOptions): Promise<ChildResult> {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI_PATH, ...options.args], {
    env: options.env,
    cwd: options.cwd,
    uid: options.uid,
    gid: options.gid,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let progressLines = 0;
  let partialLine = '';
  const result: Omit<ChildResult, 'code' | 'signal' | 'durationMs'> = { args: options.args, stdout: '', stderr: '', timedOut: false, injected: false };
  let exited = false;
  const timers: NodeJS.Timeout[] = [];

  const fire = (): void => {
    const fault = options.fault;
    if (fault === undefined || result.injected || exited) return;
    result.injected = true;
    result.injectedAtMs = Date.now() - started;
    result.progressLinesAtFault = progressLines;
    switch (fault.action) {
      case 'close-stderr':
        // The reading end goes away: the child's next write to stderr fails with EPIPE.
        child.stderr.destroy();
        break;
      case 'close-stdout':
        child.stdout.destroy();
        break;
      default:
        child.kill(fault.action);
    }
  };

  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stdout.on('error', () => {});
  child.stderr.on('error', () => {});
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stderr += text;
    const lines = (partialLine + text).split('\n');
    partialLine = lines.pop() ?? '';
    for (const line of lines) {
      if (!isProgressLine(line)) continue;
      progressLines++;
      const trigger = options.fault?.trigger;
      if (trigger?.kind === 'progress' && progressLines >= trigger.lines) fire();
    }
  });
  child.stdin.on('error', () => {});
  child.stdin.end();

  const trigger = options.fault?.trigger;
  if (trigger?.kind === 'delay') timers.push(setTimeout(fire, trigger.ms));
  if (trigger?.kind === 'bytes') void trigger.proxy.whenBytes(trigger.bytes).then(fire);
  timers.push(
    setTimeout(() => {
      result.timedOut = true;
      child.kill('SIGKILL');
    }, options.hardTimeoutMs),
  );

  return new Promise((resolve) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      exited = true;
      for (const timer of timers) clearTimeout(timer);
      resolve({ ...result, code, signal, stdout, stderr, durationMs: Date.now() - started });
    };
    child.on('error', (error) => {
      stderr += `spawn failed: ${error.message}\n`;
      finish(null, null);
    });
    // 'exit', not 'close': a grandchild holding a pipe open must not hold up the harness.
    child.on('exit', (code, signal) => setTimeout(() => finish(code, signal), 50));
  });
}
