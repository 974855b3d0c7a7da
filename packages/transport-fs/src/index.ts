export { fsTransport, type FsTransportOptions } from './fs-transport.js';
