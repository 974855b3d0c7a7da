import { spawn, type ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';

/**
 * The child's program: build the transport, open a write, write the bytes (and end the stream
 * when asked), say so on stdout, then wait to be killed. It runs the built `dist` of a package,
 * as a user's process would.
 */
const CHILD_PROGRAM = `
const [modulePath, factory, optionsJson, locationJson, writeOptionsJson, bytes, end] = process.argv.slice(1);
const plugin = await import(modulePath);
const transport = plugin[factory](JSON.parse(optionsJson));
const writer = await transport.write(JSON.parse(locationJson), JSON.parse(writeOptionsJson));
await new Promise((resolve, reject) => writer.stream.write(Buffer.alloc(Number(bytes), 7), (error) => (error ? reject(error) : resolve())));
if (end === 'end') await new Promise((resolve, reject) => writer.stream.end((error) => (error ? reject(error) : resolve())));
process.stdout.write('written\\n');
setInterval(() => {}, 60_000);
`;

/** Options of {@link startKilledWriter}. */
export interface KilledWriterOptions {
  /** Absolute path of the module that exports the factory: a package's built `dist/index.js`. */
  module: string;
  /** The factory's export name: `fsTransport`. */
  factory: string;
  /** The factory's options; JSON only. @default {} */
  options?: unknown;
  /** The location to write to (a `Location`; JSON only). */
  location: unknown;
  /** The write's options (`{ resume: true }`); JSON only. @default {} */
  writeOptions?: unknown;
  /** Bytes written before the child says `written`. @default 65536 */
  bytes?: number;
  /**
   * End the stream after the bytes (and wait for it to finish) before saying `written`: a write
   * whose data has all gone out, killed before its commit. Needed where a server keeps an
   * unfinished upload out of sight (nginx WebDAV shows a PUT's file only once its body is complete).
   * @default false
   */
  end?: boolean;
  /** The child's environment. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** A child process in the middle of a write, until {@link KilledWriter.kill} kills it. */
export interface KilledWriter {
  readonly pid: number;
  /** SIGKILL the child (no handler, no `abort`, no cleanup) and wait for it to be gone. */
  kill(): Promise<void>;
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Start a separate process that opens a transport write and writes some bytes, and resolve once
 * the bytes were accepted: the honest way to leave behind what a SIGKILLed export leaves (its
 * temporary file, its unfinished upload), which no in-process test can do.
 * @throws Error with the child's output when it exits before writing (or within `timeoutMs`).
 */
export async function startKilledWriter(options: KilledWriterOptions, timeoutMs = 30_000): Promise<KilledWriter> {
  const args = [
    '--input-type=module',
    '-e',
    CHILD_PROGRAM,
    pathToFileURL(options.module).href,
    options.factory,
    JSON.stringify(options.options ?? {}),
    JSON.stringify(options.location),
    JSON.stringify(options.writeOptions ?? {}),
    String(options.bytes ?? 65_536),
    options.end === true ? 'end' : 'open',
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = exitOf(child);
  const kill = async () => {
    child.kill('SIGKILL');
    await exited;
  };
  const written = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('written\n')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (!written) {
    await kill();
    throw new Error(`the writer child did not write: ${output.slice(-2000)}`);
  }
  return { pid: child.pid as number, kill };
}
