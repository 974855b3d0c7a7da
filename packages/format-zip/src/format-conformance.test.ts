import { runFormatSuite } from '@bentoport/format-test-suite';
import { zipFormat } from './index.js';

runFormatSuite({ format: zipFormat({ concurrency: 2 }) });
