export { kvTransport, type KvTransportOptions } from './kv-transport.js';
