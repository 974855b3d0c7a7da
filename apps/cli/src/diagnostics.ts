import { redactSecrets } from '@bentoport/plugin-kit';
import type { ProgressEvent, ProgressListener } from '@bentoport/core';
import type { CommandPlugins } from './command-plugins.js';

/**
 * What `-v/--verbose/--debug` (BentoML's flags) and `BENTOPORT_DEBUG=1` print on stderr: the
 * plugins a command chose, where it reads or writes, each phase with the time it took, and on
 * failure the stack and causes. Every line goes through the same redaction as error messages, so
 * no password, token or signed URL parameter is printed.
 */
export interface Diagnostics {
  /** Print one `[debug] …` line (nothing when diagnostics are off). */
  log(text: string): void;
  /** The plugin instances the command runs with. */
  plugins(plugins: CommandPlugins): void;
  /** Wrap a progress listener so phases, notices and warnings are also logged, with timings. */
  listener(next: ProgressListener): ProgressListener;
  /** The last line: the exit code and the whole command's time. */
  finish(exitCode: number): void;
}

export interface DiagnosticsOptions {
  enabled: boolean;
  stderr: { write(text: string): unknown };
  /** Values to mask besides what `redact` finds in URLs (the `--passwd` value). */
  secrets: readonly string[];
  /** @default performance.now */
  now?: () => number;
}

/** Whether diagnostics are on: BentoML's `--verbose`/`--debug`/`-v`, or `BENTOPORT_DEBUG=1`. */
export function diagnosticsEnabled(values: Record<string, unknown>, env: NodeJS.ProcessEnv): boolean {
  return env.BENTOPORT_DEBUG === '1' || Boolean(values.verbose) || Boolean(values.debug);
}

const milliseconds = (value: number) => `${Math.round(value)} ms`;

function describeEvent(event: ProgressEvent): string | undefined {
  switch (event.type) {
    case 'phase':
      return `${event.operation}: phase ${event.phase}${event.target === undefined ? '' : ` (${event.target})`}`;
    case 'notice':
    case 'warning':
      return `${event.operation}: ${event.type} ${event.message}`;
    case 'bytes':
      // Hundreds per second: only the phase summary carries the byte count.
      return undefined;
  }
}

export function createDiagnostics(options: DiagnosticsOptions): Diagnostics {
  const now = options.now ?? (() => performance.now());
  const started = now();
  let phaseStarted = started;
  let currentPhase: string | undefined;
  let bytesDone = 0;
  const log = (text: string) => {
    if (options.enabled) options.stderr.write(`[debug] ${redactSecrets(text, options.secrets)}\n`);
  };
  /** The phase that just ended, with its time (and the bytes it moved). */
  const endPhase = () => {
    if (currentPhase === undefined) return;
    log(`${currentPhase} took ${milliseconds(now() - phaseStarted)}${bytesDone > 0 ? `, ${bytesDone} bytes` : ''}`);
    currentPhase = undefined;
    bytesDone = 0;
  };
  return {
    log,
    plugins(plugins) {
      for (const transport of plugins.transports) log(`transport: ${transport.name} (${transport.protocols.join(', ')})`);
      for (const format of plugins.formats) log(`format: ${format.name} (${format.formats.join(', ')})`);
      for (const registry of plugins.registries) log(`registry: ${registry.name} at ${registry.url}`);
    },
    listener(next) {
      if (!options.enabled) return next;
      return (event) => {
        if (event.type === 'phase') {
          endPhase();
          currentPhase = `${event.operation} ${event.phase}`;
          phaseStarted = now();
        }
        if (event.type === 'bytes') bytesDone = event.bytesDone;
        const line = describeEvent(event);
        if (line !== undefined) log(line);
        next(event);
      };
    },
    finish(exitCode) {
      endPhase();
      log(`exit ${exitCode} after ${milliseconds(now() - started)}`);
    },
  };
}
