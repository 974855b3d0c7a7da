export { bz2Format, type Bz2FormatOptions } from './bz2-format.js';
