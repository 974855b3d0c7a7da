export { ftpTransport, type FtpTransportOptions } from './ftp-transport.js';
