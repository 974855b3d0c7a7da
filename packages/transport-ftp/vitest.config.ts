import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'transport-ftp',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Three vsftpd instances (plain, explicit TLS, implicit TLS) for every test file, stopped afterwards.
    globalSetup: ['./src/test-support/global-setup.ts'],
  },
});
