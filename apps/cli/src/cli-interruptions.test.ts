import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeScratchDir, removeScratchDirs, writeSampleBento } from '@bentoport/test-utils';
import { CLI_PATH, startCli, type CliRun } from './cli-harness.js';

// A bento big enough that its export is still writing when the test interrupts it: the weights
// are seeded float32 values that gzip barely shrinks, so `--compression max` takes a few seconds.
const WEIGHTS_BYTES = 224 * 1024 * 1024;
const TAG = 'sample_service:u432a5xip2dc6ax4';
const EXPORT_OPTIONS = ['--format', 'gz', '--compression', 'max'];
/** How often, and how many times, the tests look for the export's temporary file. */
const POLL_INTERVAL_MS = 10;
const POLL_ATTEMPTS = 3000;

let home: string;

beforeAll(async () => {
  home = await makeScratchDir('cli-interrupt');
  await writeSampleBento(home, { models: 1, weightsBytes: WEIGHTS_BYTES });
}, 120_000);
afterAll(removeScratchDirs);

/** Files the export leaves beside its destination: its temporary file, or a finished archive. */
async function leftovers(directory: string): Promise<string[]> {
  return readdir(directory);
}

/** Wait, a bounded number of times, until the export's `.<name>.bentoport-*.tmp` file exists. */
async function waitForTemporaryFile(directory: string, running: Promise<unknown>): Promise<void> {
  let finished = false;
  void running.finally(() => (finished = true));
  for (let attempt = 0; attempt < POLL_ATTEMPTS && !finished; attempt++) {
    if ((await readdir(directory)).some((name) => /^\..+\.bentoport-.+\.tmp$/.test(name))) return;
    await sleep(POLL_INTERVAL_MS);
  }
  throw new Error(`no temporary file appeared in ${directory} while the export ran`);
}

/** Neither a stack trace nor Node's report of an uncaught error reached the user. */
function expectNoStackTrace(run: CliRun): void {
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.stderr).not.toMatch(/node:internal|Uncaught|Unhandled/);
}

describe('signals during an export', () => {
  it.each([
    { name: 'SIGTERM', code: 143 },
    { name: 'SIGHUP', code: 129 },
    { name: 'SIGINT', code: 130 },
  ] as const)('$name stops the export, removes its temporary file and exits $code', async ({ name, code }) => {
    const out = await makeScratchDir('cli-signal-out');
    const started = startCli(['--home', home, 'export', TAG, path.join(out, 'sample.tar.gz'), ...EXPORT_OPTIONS]);
    await waitForTemporaryFile(out, started.result);
    started.child.kill(name);
    const run = await started.result;
    expect({ code: run.code, signal: run.signal }).toEqual({ code, signal: null });
    expect(await leftovers(out)).toEqual([]);
    expectNoStackTrace(run);
    expect(run.stderrLines).toEqual([`Error: [bentos] \`export\` failed: interrupted by ${name}`]);
    expect(run.stdout).toBe('');
  });
});

describe('closed pipes', () => {
  it('a closed stderr stops an export that reports progress on it, cleans up and exits 141', async () => {
    const out = await makeScratchDir('cli-stderr-out');
    const started = startCli(['--home', home, 'export', TAG, path.join(out, 'sample.tar.gz'), ...EXPORT_OPTIONS, '--progress', 'json']);
    await waitForTemporaryFile(out, started.result);
    // The next progress line the CLI writes meets EPIPE.
    started.child.stderr.destroy();
    const run = await started.result;
    expect({ code: run.code, signal: run.signal }).toEqual({ code: 141, signal: null });
    expect(await leftovers(out)).toEqual([]);
    expect(run.stdout).toBe('');
  });

  it('a closed stdout stops an export to stdout with one error line and exit 141, not 0', async () => {
    const started = startCli(['--home', home, 'export', TAG, '-', ...EXPORT_OPTIONS]);
    await new Promise((resolve) => started.child.stdout.once('data', resolve));
    started.child.stdout.destroy();
    const run = await started.result;
    expect({ code: run.code, signal: run.signal }).toEqual({ code: 141, signal: null });
    expectNoStackTrace(run);
    expect(run.stderrLines).toEqual(['Error: [bentos] `export` failed: stdout was closed']);
  });

  it('`export … 2>&1 | head -1` in a shell leaves nothing behind and exits 141', async () => {
    const out = await makeScratchDir('cli-pipe-out');
    const command = [process.execPath, CLI_PATH, '--home', home, 'export', TAG, path.join(out, 'sample.tar.gz'), ...EXPORT_OPTIONS, '--progress', 'json'];
    // The shell waits for both sides of the pipeline, so the CLI's cleanup is over when it exits.
    const script = `"$@" 2>&1 | head -1; echo "exit \${PIPESTATUS[0]}" >&2`;
    const shell = spawn('bash', ['-c', script, 'bash', ...command], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output = { stdout: '', stderr: '' };
    shell.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString('utf8')));
    shell.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString('utf8')));
    await new Promise((resolve) => shell.on('close', resolve));
    expect(output.stdout).toMatch(/^\{"type":"phase".*\}\n$/);
    expect(output.stderr).toBe('exit 141\n');
    expect(await leftovers(out)).toEqual([]);
  });

  it('`list` with a closed stdout is not an error: exit 0, nothing on stderr', async () => {
    const started = startCli(['--home', home, 'list']);
    started.child.stdout.destroy();
    const run = await started.result;
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  });

});
