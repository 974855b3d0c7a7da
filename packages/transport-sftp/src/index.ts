export { sftpTransport, type SftpTransportOptions } from './sftp-transport.js';
