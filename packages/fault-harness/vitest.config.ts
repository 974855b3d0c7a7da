import { defineProject } from 'vitest/config';

// Every real server the harness drives, started once by the owning package's own global setup
// and described to the tests through inject(): the same servers, users and passwords as there.
export default defineProject({
  test: {
    name: 'fault-harness',
    testTimeout: 600_000,
    hookTimeout: 120_000,
    globalSetup: [
      '../transport-ftp/src/test-support/global-setup.ts',
      '../transport-sftp/src/test-support/global-setup.ts',
      '../transport-http/src/test-support/global-setup.ts',
      '../transport-s3/src/test-servers.global-setup.ts',
      '../registry-oci/src/test-support/global-setup.ts',
    ],
    // The cases of one file run in order, so a seed replays the same sequence.
    sequence: { concurrent: false },
  },
});
