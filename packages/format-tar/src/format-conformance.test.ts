import { runFormatSuite } from '@bentoport/format-test-suite';
import { tarFormat } from './index.js';

// Two gzip workers keep the run predictable on a busy machine; the read-ahead allowance covers them.
runFormatSuite({ format: tarFormat({ concurrency: 2 }) });
