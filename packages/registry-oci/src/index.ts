export { ociRegistry, type OciRegistryOptions } from './oci-registry.js';
