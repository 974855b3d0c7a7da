import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diffTrees, hashTree, type SampleBento } from '@bentoport/test-utils';

/** The built binary: tests run exactly what users run (the root test script builds first). */
export const CLI_PATH = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

export interface CliRun {
  code: number | null;
  /** The signal that ended the process, when it did not exit by itself. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
  /** stderr split into lines, without the final empty one. */
  stderrLines: string[];
  stdoutLines: string[];
}

export interface CliRunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Bytes for stdin; stdin is an empty pipe otherwise (never a terminal). */
  input?: Buffer | string;
}

const lines = (text: string) => (text === '' ? [] : text.replace(/\n$/, '').split('\n'));

/** A CLI process still running: tests signal it or close its pipes before it ends. */
export interface StartedCli {
  child: ChildProcessWithoutNullStreams;
  /** Settles when the process has exited and its pipes are closed. */
  result: Promise<CliRun>;
}

/** The environment the CLI runs with: the caller's, minus settings that would change its output. */
function cliEnvironment(extra: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, BENTOPORT_DEBUG: undefined, BENTOML_HOME: undefined, NO_COLOR: '1', ...extra };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  return env;
}

/** Start `node dist/cli.js …args` and collect everything it prints. BENTOML_HOME is unset unless given. */
export function startCli(args: string[], options: CliRunOptions = {}): StartedCli {
  const child = spawn(process.execPath, [CLI_PATH, ...args], { cwd: options.cwd, env: cliEnvironment(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
  const result = new Promise<CliRun>((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stdoutBytes = Buffer.concat(out);
      const stdout = stdoutBytes.toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({ code, signal, stdout, stdoutBytes, stderr, stdoutLines: lines(stdout), stderrLines: lines(stderr) });
    });
  });
  // A test may close the pipes on purpose; the child's side of them is what is under test.
  for (const stream of [child.stdin, child.stdout, child.stderr]) stream.on('error', () => {});
  child.stdin.end(options.input ?? '');
  return { child, result };
}

/** Run `node dist/cli.js …args` and collect everything. BENTOML_HOME is unset unless given. */
export function runCli(args: string[], options: CliRunOptions = {}): Promise<CliRun> {
  return startCli(args, options).result;
}

/** How the bento and models of `home` differ from the sample they were copied from (none: equal trees). */
export async function differencesFromSample(sample: SampleBento, home: string): Promise<string[]> {
  const [name, version] = sample.bentoTag.split(':') as [string, string];
  const differences = diffTrees(await hashTree(sample.bentoPath), await hashTree(path.join(home, 'bentos', name, version)));
  for (const model of sample.models) {
    const [modelName, modelVersion] = model.tag.split(':') as [string, string];
    differences.push(...diffTrees(await hashTree(model.path), await hashTree(path.join(home, 'models', modelName, modelVersion))).map((line) => `${model.tag}: ${line}`));
  }
  return differences;
}
