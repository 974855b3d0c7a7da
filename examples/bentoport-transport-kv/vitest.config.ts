import { defineProject } from 'vitest/config';

// The tests import the package by its name, so they run against the built dist, as users get it.
export default defineProject({ test: { name: 'transport-kv', testTimeout: 60_000 } });
