import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliMissing, createScratch, prepareServers, runBlock } from './block-runner.js';
import { blockModuleName, typeErrors } from './block-types.js';
import { SCRIPT_LANGUAGES, SHELL_LANGUAGES, fencedBlocks, markdownFiles } from './markdown-blocks.js';
import { injectedServers, serverSkip, substitute } from './readme-servers.js';

/**
 * Every shell and TypeScript block of the READMEs runs, each as its own test named by file and
 * line. A block that cannot run here says why in the README, right before it:
 * `<!-- readme-test: skip — reason -->`. Output blocks (`text`, none) are not run.
 */
const servers = injectedServers();
const runnable = markdownFiles()
  .flatMap((file) => fencedBlocks(file))
  .filter((block) => SHELL_LANGUAGES.has(block.language) || SCRIPT_LANGUAGES.has(block.language));

// Type-checked together, once: one program is far cheaper than one per block.
let typeErrorsOf = new Map<string, string[]>();
beforeAll(() => {
  if (cliMissing() !== undefined) return;
  typeErrorsOf = typeErrors(runnable.filter((block) => SCRIPT_LANGUAGES.has(block.language) && block.skipReason === undefined));
}, 120_000);

afterAll(async () => {
  await servers.bentoCloud?.close();
});

describe('README blocks', () => {
  for (const block of runnable) {
    const name = `${block.file}:${block.line} (${block.language})`;
    if (block.skipReason !== undefined) {
      it.skip(`${name}: ${block.skipReason}`, () => {});
      continue;
    }
    it(name, async (context) => {
      const missing = cliMissing();
      if (missing !== undefined) return context.skip(missing);
      if (SCRIPT_LANGUAGES.has(block.language)) expect(typeErrorsOf.get(blockModuleName(block)), 'type errors').toEqual([]);
      const { code, needs } = substitute(block.code, servers);
      for (const server of needs) {
        const skip = serverSkip(servers, server);
        if (skip !== undefined) return context.skip(skip);
      }
      const scratch = await createScratch(`${block.line}`);
      await prepareServers(needs, code, scratch, servers);
      const result = await runBlock(block, code, scratch);
      expect(result.code, `${block.file}:${block.line} failed (exit ${result.code}); it ran as\n${code}\n\n${result.output}`).toBe(0);
    });
  }
});
