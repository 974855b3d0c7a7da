import type { Options } from 'tsup';

/** The one build configuration every package spreads: ESM, declarations, sourcemaps. */
export const baseConfig: Options = {
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: true,
  sourcemap: true,
  clean: true,
  splitting: false,
};
