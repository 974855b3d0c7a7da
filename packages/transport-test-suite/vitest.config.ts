import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'transport-test-suite', testTimeout: 60_000 } });
