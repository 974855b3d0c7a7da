import { defineConfig } from 'vitest/config';

// One run over every package, so CI reads a single pass/fail total. Packages resolve each
// other through their built `dist` (the root test script builds first), exactly as users do.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*'],
    globalSetup: ['./vitest.global-setup.ts'],
  },
});
