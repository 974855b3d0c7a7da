import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'tar', testTimeout: 60_000 } });
