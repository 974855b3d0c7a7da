export { tarFormat, type TarFormatOptions } from './tar-format.js';
