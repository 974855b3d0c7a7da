import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'signer-ssh',
    testTimeout: 30_000,
  },
});
