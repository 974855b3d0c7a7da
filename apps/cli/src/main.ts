import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBentoport } from '@bentoport/core';
import { redactSecrets } from '@bentoport/plugin-kit';
import { PROGRESS_MODES, UsageError, parseCommandLine, type Invocation } from './command-line.js';
import { pluginsForCommand } from './command-plugins.js';
import { runCommand, type CliIo } from './commands.js';
import { helpText } from './help-text.js';
import { discoverPlugins, type PluginCatalog } from './plugin-discovery.js';
import { EXIT, SIGNAL_EXIT } from './exit-codes.js';
import { interruptionOf } from './interruptions.js';
import { installHint, servedByKind } from './plugin-loading.js';
import { createProgressRenderer, type ProgressMode } from './progress-renderer.js';
import { createDiagnostics, diagnosticsEnabled } from './diagnostics.js';

declare const __BENTOPORT_VERSION__: string;

export interface MainOptions {
  io: CliIo;
  env: NodeJS.ProcessEnv;
  /**
   * Fires on SIGINT, SIGTERM, SIGHUP or a closed stdout/stderr: the running operation stops and
   * cleans up. Its reason, made by `interruptionReason`, decides the exit code.
   */
  signal: AbortSignal;
  /** Relative paths resolve, and project-local plugins are looked for, from here. @default process.cwd() */
  cwd?: string;
}

/** The CLI's own directory: the plugins installed beside it are in the node_modules at and above it. */
const CLI_DIRECTORY = path.dirname(fileURLToPath(import.meta.url));

export { EXIT, SIGNAL_EXIT } from './exit-codes.js';

/**
 * Commands whose output is only a report: when its reader goes away (`bentoport list | head`)
 * nothing is lost that the user still wanted, so it is not an error.
 */
const REPORT_ONLY_COMMANDS: ReadonlySet<string> = new Set(['list', 'get', 'plugins']);

/** The exit code of a command stopped by `reason`, or undefined when that was no interruption. */
function interruptedExitCode(reason: unknown, command: string): number | undefined {
  const interruption = interruptionOf(reason);
  if (interruption === undefined) return undefined;
  if (interruption === 'stdout' || interruption === 'stderr') return REPORT_ONLY_COMMANDS.has(command) ? EXIT.ok : EXIT.closedPipe;
  return SIGNAL_EXIT[interruption];
}

/** One line: BentoML prints a failure as a single `Error: …` line. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

function progressMode(value: unknown, stderrIsTerminal: boolean): ProgressMode {
  const mode = typeof value === 'string' ? value : 'auto';
  if (mode === 'auto') return stderrIsTerminal ? 'bar' : 'none';
  if (mode !== 'auto' && (PROGRESS_MODES as readonly string[]).includes(mode)) return mode as ProgressMode;
  throw new UsageError(`invalid --progress '${mode}' (auto, bar, json or none)`);
}

function debugDetails(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 8; depth++) {
    lines.push(current instanceof Error ? (current.stack ?? String(current)) : String(current));
    current = current instanceof Error ? current.cause : undefined;
    if (current !== undefined) lines.push('Caused by:');
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The format tokens of the installed plugins, for the help of export and import (read from their
 * package.json files, nothing imported); undefined when discovery fails (a listed package is
 * missing), so that help still prints.
 */
async function helpFormats(topic: string, env: NodeJS.ProcessEnv, cwd: string): Promise<string[] | undefined> {
  if (topic !== 'export' && topic !== 'import') return undefined;
  try {
    return servedByKind(await discoverPlugins({ env, cwd, cliDirectory: CLI_DIRECTORY }), 'format');
  } catch {
    return undefined;
  }
}

/** Run the CLI and return its exit code. Never throws. */
export async function main(argv: string[], options: MainOptions): Promise<number> {
  const { io, env, signal } = options;
  const cwd = options.cwd ?? process.cwd();
  let invocation: Invocation;
  try {
    invocation = parseCommandLine(argv);
  } catch (error) {
    const command = error instanceof UsageError ? error.command : undefined;
    io.stderr.write(`Error: ${(error as Error).message}. See 'bentoport ${command ? `${command} ` : ''}--help'.\n`);
    return EXIT.usage;
  }
  if (invocation.kind === 'version') {
    io.stdout.write(`${__BENTOPORT_VERSION__}\n`);
    return EXIT.ok;
  }
  if (invocation.kind === 'help') {
    io.stdout.write(helpText(invocation.topic, invocation.group, await helpFormats(invocation.topic, env, cwd)));
    return EXIT.ok;
  }

  const { group, command, values } = invocation;
  const label = group === 'models' ? `models ${command}` : command;
  const secrets = typeof values.passwd === 'string' ? [values.passwd] : [];
  const stderrIsTerminal = Boolean(io.stderr.isTTY);
  const debug = diagnosticsEnabled(values, env);
  const diagnostics = createDiagnostics({ enabled: debug, stderr: io.stderr, secrets });
  diagnostics.log(`bentoport ${__BENTOPORT_VERSION__}: ${label}`);
  let finishProgress = () => {};
  try {
    const renderer = createProgressRenderer({
      stream: io.stderr,
      mode: progressMode(values.progress, stderrIsTerminal),
      quiet: Boolean(values.quiet),
      color: stderrIsTerminal && env.NO_COLOR === undefined,
    });
    finishProgress = renderer.finish;
    const home = typeof values.home === 'string' ? path.resolve(cwd, values.home) : undefined;
    if (home !== undefined) diagnostics.log(`home: ${home}`);
    const listener = diagnostics.listener(renderer.listener);
    let discovery: Promise<PluginCatalog> | undefined;
    const catalog = () => (discovery ??= discoverPlugins({ env, cwd, cliDirectory: CLI_DIRECTORY }));
    const plugins = await pluginsForCommand({ group, command, positionals: invocation.positionals, values, env, cwd, catalog, onProgress: listener });
    diagnostics.plugins(plugins);
    const bentoport = createBentoport({ ...(home === undefined ? {} : { home }), ...plugins, cwd, onProgress: listener });
    await runCommand({ bentoport, group, command, positionals: invocation.positionals, values, env, io, signal, finishProgress, catalog });
    finishProgress();
    diagnostics.finish(EXIT.ok);
    return EXIT.ok;
  } catch (error) {
    finishProgress();
    const code = reportFailure(error, { io, env, signal, group, command, label, secrets, debug });
    diagnostics.finish(code);
    return code;
  }
}

interface FailureContext {
  io: CliIo;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  group: string;
  command: string;
  label: string;
  secrets: string[];
  debug: boolean;
}

/** Print a failed command's one line (and with diagnostics on, its stack and causes); return its exit code. */
function reportFailure(error: unknown, context: FailureContext): number {
  const { io, env, signal, group, command, label, secrets } = context;
  if (error instanceof UsageError) {
    io.stderr.write(`Error: ${redactSecrets(error.message, secrets)}. See 'bentoport ${error.command ? (group === 'models' ? `models ${error.command}` : error.command) : label} --help'.\n`);
    return EXIT.usage;
  }
  const interrupted = signal.aborted ? interruptedExitCode(signal.reason, command) : undefined;
  // A report nobody reads any more (`list | head`) ends quietly, as a finished one would.
  if (interrupted === EXIT.ok) return EXIT.ok;
  const hint = installHint(error, env);
  const message = (error instanceof Error ? error.message : String(error)) + (hint === undefined ? '' : `; ${hint}`);
  io.stderr.write(`Error: [${group}] \`${command}\` failed: ${oneLine(redactSecrets(message, secrets))}\n`);
  if (context.debug) io.stderr.write(redactSecrets(debugDetails(error), secrets));
  return interrupted ?? EXIT.failed;
}
