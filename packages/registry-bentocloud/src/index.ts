export { bentoCloudRegistry, type BentoCloudRegistryOptions } from './bentocloud-registry.js';
