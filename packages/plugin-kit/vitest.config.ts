import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'plugin-kit', testTimeout: 60_000 } });
