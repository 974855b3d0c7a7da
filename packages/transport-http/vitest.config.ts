import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'transport-http',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One nginx (plain, TLS and WebDAV) and one tinyproxy for every test file, stopped afterwards.
    globalSetup: ['./src/test-support/global-setup.ts'],
  },
});
