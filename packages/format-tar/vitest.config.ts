import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'format-tar', testTimeout: 60_000 } });
