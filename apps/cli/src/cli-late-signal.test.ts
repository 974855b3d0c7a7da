import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeScratchDir, removeScratchDirs, writeSampleBento, type SampleBento } from '@bentoport/test-utils';
import { startCli } from './cli-harness.js';

let home: string;
let sample: SampleBento;

beforeAll(async () => {
  home = await makeScratchDir('cli-late-signal');
  sample = await writeSampleBento(home, { models: 1, weightsBytes: 64 * 1024 });
});
afterAll(removeScratchDirs);

/**
 * A module preloaded into the CLI that keeps its process alive for a few seconds after the
 * command has ended: a wide stand-in for the moment a finished process takes to close (its
 * sockets, a plugin's timer), in which a signal can still arrive.
 */
async function lingeringProcess(directory: string): Promise<string> {
  const module = path.join(directory, 'linger.mjs');
  await writeFile(module, 'setTimeout(() => {}, 5000);\n');
  return module;
}

describe('a signal after the command has ended', () => {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`keeps the command's own exit code and output, rather than a silent interrupted code (${signal})`, async () => {
      const directory = await makeScratchDir('cli-late-signal-out');
      const destination = path.join(directory, 'model.bentomodel');
      const model = sample.models[0]?.tag as string;
      const cli = startCli(['models', 'export', model, destination], { env: { NODE_OPTIONS: `--import ${await lingeringProcess(directory)}`, BENTOML_HOME: home } });
      let stdout = '';
      cli.child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      // The summary is the last thing the command prints before it returns.
      for (let attempt = 0; attempt < 1000 && !/sha256 [0-9a-f]{64}\n/.test(stdout); attempt++) await sleep(10);
      expect(stdout).toContain(`exported to ${destination}`);
      cli.child.kill(signal);
      const result = await cli.result;
      expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
      expect(result.stderrLines).toEqual([]);
      expect(existsSync(destination)).toBe(true);
    });
  }
});
