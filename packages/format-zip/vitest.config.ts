import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'format-zip', testTimeout: 60_000 } });
