import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'transport-s3',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    globalSetup: ['./src/test-servers.global-setup.ts'],
  },
});
