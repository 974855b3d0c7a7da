import { defineProject } from 'vitest/config';

// The servers a remote store lives on, started by the owning packages' own global setups and
// described through inject(): the same servers, users and passwords as there.
export default defineProject({
  test: {
    name: 'sync-tests',
    testTimeout: 180_000,
    hookTimeout: 120_000,
    globalSetup: [
      '../transport-ftp/src/test-support/global-setup.ts',
      '../transport-sftp/src/test-support/global-setup.ts',
      '../transport-http/src/test-support/global-setup.ts',
      '../transport-s3/src/test-servers.global-setup.ts',
    ],
  },
});
