export { xzFormat, type XzFormatOptions } from './xz-format.js';
