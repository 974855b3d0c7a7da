import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'transport-sftp',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One OpenSSH sshd (internal-sftp, password and key logins) for every test file, stopped afterwards.
    globalSetup: ['./src/test-support/global-setup.ts'],
  },
});
