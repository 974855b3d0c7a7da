import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { makeScratchDir, removeScratchDirs } from '@bentoport/test-utils';
import { startCli } from './cli-harness.js';

afterAll(removeScratchDirs);

/**
 * Module loader hooks that hold the loading of the engine (`@bentoport/core`) for two seconds,
 * having first written `marker`: the window in which the CLI is still loading, made wide enough
 * for a test to send a signal into it.
 */
async function slowEngineLoad(directory: string, marker: string): Promise<string> {
  const hooks = path.join(directory, 'hooks.mjs');
  await writeFile(
    hooks,
    `import { writeFileSync } from 'node:fs';
export async function load(url, context, nextLoad) {
  if (url.includes('/core/dist/index.js')) {
    writeFileSync(${JSON.stringify(marker)}, url);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  return nextLoad(url, context);
}
`,
  );
  const register = path.join(directory, 'register.mjs');
  await writeFile(register, `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${hooks}`)});\n`);
  return register;
}

describe('a signal while the CLI is still loading', () => {
  for (const [signal, code] of [['SIGTERM', 143], ['SIGHUP', 129], ['SIGINT', 130]] as const) {
    it(`ends it with ${code}, not by the default disposition (${signal})`, async () => {
      const directory = await makeScratchDir('cli-early-signal');
      const marker = path.join(directory, 'loading');
      const register = await slowEngineLoad(directory, marker);
      const cli = startCli(['list'], { env: { NODE_OPTIONS: `--import ${register}`, BENTOML_HOME: directory } });
      for (let attempt = 0; attempt < 500 && !existsSync(marker); attempt++) await sleep(10);
      expect(existsSync(marker)).toBe(true);
      cli.child.kill(signal);
      const result = await cli.result;
      expect({ code: result.code, signal: result.signal }).toEqual({ code, signal: null });
      expect(result.stderrLines).toEqual([`Error: interrupted by ${signal} while starting; nothing was changed`]);
    });
  }
});
