export { s3Transport, type S3TransportOptions } from './s3-transport.js';
