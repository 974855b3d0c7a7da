import { SIGNAL_EXIT, STOPPING_SIGNALS, type StoppingSignal } from './exit-codes.js';
import { tuneProcessMemory } from './process-memory.js';

// The AWS SDK warns on every run that its 2027 releases will need Node 22. The versions we pin
// support Node 20, and a one-line-error CLI must not print a paragraph of someone else's notice.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * Loading the engine and the plugins takes about 100 ms. A signal in that time finds nothing
 * written yet, so nothing to clean up, but must still end the process with its documented code
 * and one line, rather than by the default disposition (no exit code, nothing said).
 * run-cli.ts's handlers, which stop a running operation, take over once it has loaded.
 */
function exitBeforeStart(name: StoppingSignal): void {
  // stderr may be the closed pipe itself: a failed write must not stand in the way of the exit.
  process.stderr.on('error', () => {});
  process.stderr.write(`Error: interrupted by ${name} while starting; nothing was changed\n`);
  process.exit(SIGNAL_EXIT[name]);
}

/** The hidden subcommand the completion scripts call on every TAB (see completion-scripts.ts). */
const COMPLETE_REQUEST = '__complete';

if (process.argv[2] === COMPLETE_REQUEST) {
  // Before any handler and without the engine: it must answer fast, and a TAB interrupted by
  // Ctrl-C must end silently, not print a line into the prompt.
  const { runCompletionRequest } = await import('./complete-request.js');
  await runCompletionRequest(process.argv.slice(3));
} else {
  tuneProcessMemory();
  for (const name of STOPPING_SIGNALS) process.on(name, exitBeforeStart);
  const { runCli } = await import('./run-cli.js');
  for (const name of STOPPING_SIGNALS) process.off(name, exitBeforeStart);
  await runCli();
}
