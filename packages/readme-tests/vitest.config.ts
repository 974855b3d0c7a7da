import { defineProject } from 'vitest/config';

// The README blocks that reach a server get the real ones, started by the owning package's own
// global setup and described through inject(): the same servers, users and passwords as there.
export default defineProject({
  test: {
    name: 'readme-tests',
    testTimeout: 180_000,
    hookTimeout: 120_000,
    globalSetup: [
      '../transport-ftp/src/test-support/global-setup.ts',
      '../transport-sftp/src/test-support/global-setup.ts',
      '../transport-http/src/test-support/global-setup.ts',
      '../transport-s3/src/test-servers.global-setup.ts',
      '../registry-oci/src/test-support/global-setup.ts',
    ],
  },
});
