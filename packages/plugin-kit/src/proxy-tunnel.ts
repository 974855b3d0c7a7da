import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { timeoutError } from './network-failure.js';

/** A proxy's answer to CONNECT is a status line and a few headers; more than this is not a proxy. */
const MAX_CONNECT_RESPONSE_BYTES = 16 * 1024;

/** What opening a tunnel needs besides the proxy and the target. */
export interface ProxyTunnelOptions {
  /** Milliseconds for the TCP (and TLS) connection to the proxy and its answer to CONNECT. */
  connectTimeoutMs: number;
  /** TLS settings for an `https:` proxy (`ca`, `rejectUnauthorized`). @default {} */
  proxyTls?: ConnectionOptions;
}

/** `Proxy-Authorization` for a proxy URL with user info (`http://user:pass@proxy:3128`), else undefined. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (proxy.username === '' && proxy.password === '') return undefined;
  const user = decodeURIComponent(proxy.username);
  const password = decodeURIComponent(proxy.password);
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** The port a proxy URL names, or its scheme's default. */
export function proxyPort(proxy: URL): number {
  return Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80));
}

/** A TCP connection to the proxy, in TLS when the proxy URL is `https:`. */
export function connectToProxy(proxy: URL, proxyTls: ConnectionOptions = {}): Socket {
  const host = proxy.hostname.replace(/^\[|\]$/g, '');
  const port = proxyPort(proxy);
  return proxy.protocol === 'https:' ? connectTls({ ...proxyTls, host, port, servername: host }) : connectTcp({ host, port });
}

function authorityOf(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function connectRequest(host: string, port: number, proxy: URL): string {
  const authority = authorityOf(host, port);
  const authorization = proxyAuthorization(proxy);
  return `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${authorization === undefined ? '' : `Proxy-Authorization: ${authorization}\r\n`}\r\n`;
}

/**
 * An error for a proxy that refused the tunnel, naming the proxy (without credentials), the
 * target and the status, and where the proxy setting comes from; a 407 says the proxy wants
 * (other) credentials.
 */
function refusedError(statusLine: string, proxy: URL, authority: string): Error & { code: string; status: number } {
  const status = Number(/^HTTP\/\d(?:\.\d)?\s+(\d{3})/.exec(statusLine)?.[1] ?? 0);
  const answer = /^HTTP\/\d(?:\.\d)?\s+(\d{3}.*)$/.exec(statusLine.trim())?.[1] ?? (statusLine.trim() || 'no status line');
  const hint = status === 407 ? 'put the proxy credentials in the proxy URL (http://user:password@proxy:port)' : 'check HTTPS_PROXY/NO_PROXY';
  return Object.assign(new Error(`the proxy ${proxy.origin} refused the CONNECT to ${authority} with ${answer}; ${hint}`), {
    code: 'ERR_PROXY_TUNNEL',
    status,
  });
}

/**
 * Open a `CONNECT` tunnel through an HTTP(S) proxy to `host:port` and hand back the connected
 * socket, ready for TLS to the target. The connection to the proxy and its answer share one
 * `connectTimeoutMs`, so a proxy that accepts and never answers fails like a target that does.
 * @throws an `ETIMEDOUT` TimeoutError past the limit; an `ERR_PROXY_TUNNEL` error (with `status`)
 * when the proxy answers anything but 2xx; the socket's own error (ECONNREFUSED …) otherwise.
 */
export function openProxyTunnel(proxy: URL, host: string, port: number, options: ProxyTunnelOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectToProxy(proxy, options.proxyTls);
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => fail(timeoutError(`no tunnel through the proxy ${proxy.host}`, options.connectTimeoutMs, 'connectTimeoutMs')), options.connectTimeoutMs);
    function cleanUp(): void {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', fail);
      socket.off('end', onEnd);
    }
    function fail(error: Error): void {
      cleanUp();
      socket.destroy();
      reject(error);
    }
    function onEnd(): void {
      fail(Object.assign(new Error(`the proxy ${proxy.host} closed the connection before answering CONNECT`), { code: 'ECONNRESET' }));
    }
    function onData(chunk: Buffer): void {
      received = Buffer.concat([received, chunk]);
      const headEnd = received.indexOf('\r\n\r\n');
      if (headEnd === -1) {
        if (received.length > MAX_CONNECT_RESPONSE_BYTES) fail(refusedError('an answer too long to be one', proxy, authorityOf(host, port)));
        return;
      }
      const statusLine = received.subarray(0, received.indexOf('\r\n')).toString('latin1');
      if (!/^HTTP\/\d(?:\.\d)?\s+2\d\d\b/.test(statusLine)) return fail(refusedError(statusLine, proxy, authorityOf(host, port)));
      cleanUp();
      // Paused until TLS takes the socket over, so no byte of the tunnel is read by nobody.
      socket.pause();
      // Bytes after the proxy's answer already belong to the tunnel.
      const rest = received.subarray(headEnd + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    }
    socket.on('error', fail);
    socket.on('end', onEnd);
    socket.on('data', onData);
    socket.write(connectRequest(host, port, proxy));
  });
}
