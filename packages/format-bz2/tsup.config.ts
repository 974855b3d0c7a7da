import { copyFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base.js';

export default defineConfig({
  ...baseConfig,
  entry: ['src/index.ts'],
  // libbzip2, compiled by wasm/build.sh, is read at run time from beside the bundle.
  onSuccess: () => copyFile('src/libbzip2.wasm', 'dist/libbzip2.wasm'),
});
