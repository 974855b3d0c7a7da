import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base.js';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  ...baseConfig,
  entry: {
    cli: 'src/cli.ts',
    demo: 'src/demo.ts',
    bench: 'bench/bench.ts',
    'bench-worker': 'bench/bench-worker.ts',
  },
  // An application: no declaration files to publish.
  dts: false,
  // cli.ts installs its first signal handlers, then loads the rest with import(): that load must
  // stay a separate chunk, or the bundle's static imports of the engine would run before them.
  splitting: true,
  // The demo and the benchmark use the private test utilities; they ship inside dist.
  noExternal: ['@bentoport/test-utils'],
  define: { __BENTOPORT_VERSION__: JSON.stringify(version) },
  banner: ({ format }) => (format === 'esm' ? { js: '#!/usr/bin/env node' } : {}),
});
