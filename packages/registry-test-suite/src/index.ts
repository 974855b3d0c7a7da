export { runRegistrySuite } from './run-registry-suite.js';
export type { RegistrySource, RegistrySuiteOptions } from './suite-options.js';
export { memoryRegistry, type MemoryRegistryOptions } from './memory-registry/memory-registry.js';
