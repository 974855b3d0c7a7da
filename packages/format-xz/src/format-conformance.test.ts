import { runFormatSuite } from '@bentoport/format-test-suite';
import { xzFormat } from './index.js';

// Two 2 MiB blocks in flight at most, within the suite's read-ahead allowance.
runFormatSuite({ format: xzFormat({ concurrency: 2 }) });
