import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'transport-fs', testTimeout: 60_000 } });
