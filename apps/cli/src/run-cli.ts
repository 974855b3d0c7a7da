import { BentoportError } from '@bentoport/core';
import { EXIT, SIGNAL_EXIT, STOPPING_SIGNALS, type StoppingSignal } from './exit-codes.js';
import { interruptionReason, type Interruption } from './interruptions.js';
import { main } from './main.js';

const controller = new AbortController();
/** Signals received so far: the first stops the operation, a second leaves without waiting. */
let signalsReceived = 0;
/** `main` has returned: nothing is left to clean up, and the exit code is set. */
let finished = false;
/** stdout failed for a reason other than its reader leaving: what was printed is lost. */
let stdoutFailed = false;

/** Stop the running operation, which removes its temporary files and staging, once. */
function stop(reason: BentoportError): void {
  if (!controller.signal.aborted) controller.abort(reason);
}

function interrupt(interruption: Interruption): void {
  stop(interruptionReason(interruption));
}

/**
 * The first signal stops the operation and `main` returns once it has cleaned up. A second signal
 * (the user or supervisor insists) exits at once, as without handlers.
 *
 * One after `main` returned interrupted nothing: the command has ended and said how (its result,
 * or its one error line), and only the process's own closing (sockets, a plugin's timer) is left.
 * It leaves at once with the code `main` chose: exiting with the signal's code there would report
 * a finished export as interrupted, without a line to say so.
 */
function onSignal(name: StoppingSignal): void {
  signalsReceived++;
  if (finished) process.exit();
  if (signalsReceived > 1) process.exit(SIGNAL_EXIT[name]);
  interrupt(name);
}

/**
 * EPIPE: the reader went away (`list | head`, `export … 2>&1 | head -1`); stop as for a signal.
 * Without this listener the error would be thrown from the stream, killing the process with a
 * stack trace and leaving the export's temporary file behind.
 */
function onStderrError(error: NodeJS.ErrnoException): void {
  // Any other failure of stderr (EIO once the terminal is gone) leaves nowhere to report it.
  if (error.code === 'EPIPE') interrupt('stderr');
}

function onStdoutError(error: NodeJS.ErrnoException): void {
  if (error.code === 'EPIPE') return interrupt('stdout');
  // ENOSPC, EIO: the output is lost, which is a failure even when the command has finished.
  const failure = new BentoportError('ERR_IO', `[cli] write stdout: ${error.message}`, { cause: error });
  stdoutFailed = true;
  if (!finished) return stop(failure);
  process.exitCode = EXIT.failed;
  process.stderr.write(`Error: ${failure.message}\n`);
}

/** How long the cleanup after an internal error may take before the process leaves anyway. */
const INTERNAL_ERROR_CLEANUP_MS = 10_000;
/** An exception nothing caught has happened: the exit code is EXIT.internal whatever `main` returns. */
let internalError = false;

/**
 * A bug (an exception or rejection nothing caught, in bentoport or a plugin) must not print a
 * stack trace or leave partial output: stop the operation as for a signal, so `main` cleans up and
 * prints its one line, then exit 70. Should the bug have broken the operation so that it never
 * returns, leave after INTERNAL_ERROR_CLEANUP_MS with a line of our own, without the error's text,
 * which nothing has redacted.
 */
function onInternalError(error: unknown): void {
  if (process.env.BENTOPORT_DEBUG === '1') process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  if (internalError) return;
  internalError = true;
  stop(new BentoportError('ERR_ABORTED', 'stopped by an internal error (a bug in bentoport or a plugin); run it again with BENTOPORT_DEBUG=1 and report what it prints'));
  setTimeout(() => {
    process.stderr.write('Error: internal error (a bug in bentoport or a plugin); run it again with BENTOPORT_DEBUG=1 and report what it prints\n');
    process.exit(EXIT.internal);
  }, INTERNAL_ERROR_CLEANUP_MS).unref();
}

/**
 * Install the handlers that turn every way the process can end into a cleanup, run the command
 * line, and set the exit code. Called once, by cli.ts.
 */
export async function runCli(): Promise<void> {
  for (const name of STOPPING_SIGNALS) process.on(name, onSignal);
  process.on('uncaughtException', onInternalError);
  process.on('unhandledRejection', onInternalError);
  process.stdout.on('error', onStdoutError);
  process.stderr.on('error', onStderrError);

  const code = await main(process.argv.slice(2), {
    io: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
    env: process.env,
    signal: controller.signal,
  });
  finished = true;
  process.exitCode = internalError ? EXIT.internal : stdoutFailed && code === EXIT.ok ? EXIT.failed : code;
}
