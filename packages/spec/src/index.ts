export { apiVersion, type ApiVersion } from './api-version.js';
export { BentoportError, ERROR_CODES, isBentoportError, type BentoportErrorOptions, type ErrorCode } from './errors.js';
export type * from './archive-entry.js';
export type * from './format.js';
export type * from './transport.js';
export type * from './registry.js';
export type * from './progress.js';
export type * from './item-metadata.js';
export type * from './signing.js';
