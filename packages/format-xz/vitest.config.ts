import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'format-xz', testTimeout: 60_000 } });
