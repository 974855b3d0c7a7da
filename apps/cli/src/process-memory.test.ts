import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeScratchDir, removeScratchDirs } from '@bentoport/test-utils';
import { runCli } from './cli-harness.js';

afterAll(removeScratchDirs);

// Preloaded into the CLI's process: as it exits, keeps 2 million small objects alive (what
// creating thousands of files does to V8's young generation, in excess) and reports the size the
// young generation has grown to.
const PROBE = `
process.on('exit', () => {
  const kept = [];
  for (let round = 0; round < 40; round++) {
    const batch = [];
    for (let i = 0; i < 50000; i++) batch.push({ i, name: 'file-' + i });
    kept.push(batch);
  }
  const young = require('node:v8').getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  process.stderr.write('young generation bytes: ' + young.space_size + '\\n');
});
`;

let probe: string;

beforeAll(async () => {
  probe = path.join(await makeScratchDir('process-memory-'), 'young-generation-probe.cjs');
  await writeFile(probe, PROBE);
});

async function youngGenerationBytes(nodeOptions: string): Promise<number> {
  const run = await runCli(['--version'], { env: { NODE_OPTIONS: `--require ${probe} ${nodeOptions}`.trim() } });
  expect(run.code).toBe(0);
  const line = run.stderrLines.find((text) => text.startsWith('young generation bytes: '));
  expect(line, run.stderr).toBeDefined();
  return Number(line?.split(': ')[1]);
}

describe("the CLI's process keeps V8's young generation small", () => {
  it('the young generation stays at its starting size however many objects survive', async () => {
    // 1 MiB per semi-space, two semi-spaces; V8's default grows to 16 MiB each.
    expect(await youngGenerationBytes('')).toBeLessThanOrEqual(2 * 1024 * 1024);
  });

  it("a young-generation flag the user gave in NODE_OPTIONS is left as it is", async () => {
    expect(await youngGenerationBytes('--max-semi-space-size=8')).toBeGreaterThan(4 * 1024 * 1024);
  });
});
