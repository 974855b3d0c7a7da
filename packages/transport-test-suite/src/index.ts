export { runTransportSuite } from './run-transport-suite.js';
export type { TransportSuiteOptions } from './suite-options.js';
export { memoryTransport, type MemoryTransportOptions } from './memory-transport.js';
