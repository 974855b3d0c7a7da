import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'format-test-suite', testTimeout: 60_000 } });
