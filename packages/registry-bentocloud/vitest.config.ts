import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'registry-bentocloud', testTimeout: 60_000, hookTimeout: 60_000, globalSetup: ['./src/moto.global-setup.ts'] } });
