import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'format-bz2', testTimeout: 60_000 } });
