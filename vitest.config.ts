import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// One run over every package, so CI reads a single pass/fail total. Packages resolve each
// other through their built `dist` (the root test script builds first), exactly as users do.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*'],
    globalSetup: ['./vitest.global-setup.ts'],
    // Vitest's default is one worker fewer than the cores: one on a 2-core CI machine, where most
    // test files wait on a server or a child process, not on the CPU. Two there took the whole
    // run from 19.8 to 12.4 minutes (1.5 cores busy on average instead of 1); larger machines
    // keep the default.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
