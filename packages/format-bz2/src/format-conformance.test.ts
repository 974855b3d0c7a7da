import { runFormatSuite } from '@bentoport/format-test-suite';
import { bz2Format } from './index.js';

// Two worker threads: bzip2 is pure JavaScript, and the machine running the tests is shared.
runFormatSuite({ format: bz2Format({ concurrency: 2 }) });
