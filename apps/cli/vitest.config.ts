import { defineProject } from 'vitest/config';

// The tests run the built binary (dist/cli.js): the root test script builds first.
export default defineProject({ test: { name: 'cli', testTimeout: 60_000 } });
