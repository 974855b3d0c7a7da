export { zipFormat } from './zip-format.js';
export type { ZipFormatOptions } from './zip-format.js';
