export * from './errors.js';
export type * from './archive-entry.js';
export type * from './format.js';
export type * from './transport.js';
export type * from './registry.js';
export type * from './progress.js';
export * from './tag.js';
