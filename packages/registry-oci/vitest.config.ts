import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'registry-oci',
    testTimeout: 120_000,
    hookTimeout: 60_000,
    globalSetup: ['./src/test-support/global-setup.ts'],
    // The tests share the registries started by the global setup.
    fileParallelism: false,
  },
});
