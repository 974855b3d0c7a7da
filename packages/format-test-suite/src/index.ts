export { runFormatSuite } from './run-format-suite.js';
export type { FormatSuiteOptions } from './suite-options.js';
export { lineFormat, type LineFormatOptions } from './line-format/line-format.js';
