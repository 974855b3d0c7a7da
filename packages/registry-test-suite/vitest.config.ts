import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'registry-test-suite', testTimeout: 60_000 } });
