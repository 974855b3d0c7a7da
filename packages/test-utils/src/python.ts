import { execFile, execFileSync } from 'node:child_process';

/** Options of {@link python}. */
export interface PythonOptions {
  /** Working directory. @default process.cwd() */
  cwd?: string;
  /** Extra environment variables, on top of process.env. */
  env?: NodeJS.ProcessEnv;
  /** Bytes or text for the script's stdin. */
  input?: string | Buffer;
  /** Kill the script after this many milliseconds. @default 120000 */
  timeout?: number;
  /** Interpreter to run. @default process.env.PYTHON ?? 'python3' */
  executable?: string;
}

/**
 * Run `python3 -c <script> [args…]` and return its stdout. Tests use Python's tarfile, zipfile and
 * shutil as the reference implementation BentoML itself relies on. Rejects with the script's
 * stderr when it exits non-zero.
 * @example
 * const names = await python('import tarfile,sys; print("\\n".join(tarfile.open(sys.argv[1]).getnames()))', [archive]);
 */
export function python(script: string, args: string[] = [], options: PythonOptions = {}): Promise<string> {
  const executable = options.executable ?? process.env.PYTHON ?? 'python3';
  return new Promise((resolve, reject) => {
    const child = execFile(
      executable,
      ['-c', script, ...args],
      {
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        timeout: options.timeout ?? 120_000,
        maxBuffer: 256 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`python3 failed (${error.code ?? error.signal ?? 'error'}): ${stderr.trim() || error.message}`, { cause: error }));
        } else {
          resolve(stdout);
        }
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** True when `python3` runs and can import every given module (for `it.skipIf`). */
export function hasPython(modules: string[] = []): boolean {
  try {
    const imports = modules.map((name) => `import ${name}`).join('; ') || 'pass';
    execFileSync(process.env.PYTHON ?? 'python3', ['-c', imports], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}
