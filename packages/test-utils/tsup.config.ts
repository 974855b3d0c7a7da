import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base.js';

// The BentoCloud API double is its own entry point: the AWS SDK it loads must stay out of bundles
// of the main entry (the CLI bundles test-utils for its demo and benchmark).
export default defineConfig({ ...baseConfig, entry: ['src/index.ts', 'src/bentocloud-api-double.ts'] });
