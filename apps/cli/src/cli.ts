import { EXIT, main } from './main.js';

// The AWS SDK warns on every run that its 2027 releases will need Node 22. The versions we pin
// support Node 20, and a one-line-error CLI must not print a paragraph of someone else's notice.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const controller = new AbortController();
process.on('SIGINT', () => {
  // First Ctrl-C: stop the operation and clean up (temp files, staging). Second: leave now.
  if (controller.signal.aborted) process.exit(EXIT.interrupted);
  controller.abort(new Error('interrupted'));
});
// `bentoport list | head`: a closed pipe is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(EXIT.ok);
  throw error;
});

process.exitCode = await main(process.argv.slice(2), {
  io: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
  env: process.env,
  signal: controller.signal,
});
