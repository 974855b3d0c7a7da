import { createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * An HTTP/1.1 server on 127.0.0.1 that answers every request with `Connection: close` and ends
 * the connection right after the last byte of the body, the way `python3 -m http.server` does.
 * It writes the whole response and its FIN at once, so a client that reads the body more slowly
 * than the loopback delivers it sees the end of the connection while it still holds unread body
 * bytes: the case that crashed undici 7's HTTP/1 parser (`assert(!this.paused)`).
 */
export interface ClosingServer {
  readonly port: number;
  readonly origin: string;
  /** Requests answered so far, with their headers (lower-case names). */
  readonly requests: ClosingServerRequest[];
  close(): Promise<void>;
}

/** One request a {@link ClosingServer} answered. */
export interface ClosingServerRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
}

/** What a {@link ClosingServer} answers for one path. */
export interface ClosingServerResource {
  body: Buffer;
  /** Extra response headers (`Content-Type`, `ETag`, …). @default {} */
  headers?: Record<string, string>;
  /** Send `Content-Length`; false ends the body with the connection instead. @default true */
  contentLength?: boolean;
}

/** The first request on a connection, once its headers have arrived; undefined until then. */
function parseRequest(received: string): ClosingServerRequest | undefined {
  const end = received.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [line = '', ...fields] = received.slice(0, end).split('\r\n');
  const [method = 'GET', path = '/'] = line.split(' ');
  const headers = Object.fromEntries(fields.map((field) => [field.slice(0, field.indexOf(':')).trim().toLowerCase(), field.slice(field.indexOf(':') + 1).trim()]));
  return { method, path, headers };
}

function responseHead(status: string, resource: ClosingServerResource | undefined): string {
  const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream', ...(resource?.headers ?? {}), Connection: 'close' };
  if (resource === undefined) headers['Content-Length'] = '0';
  else if (resource.contentLength !== false) headers['Content-Length'] = String(resource.body.length);
  return `HTTP/1.1 ${status}\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`;
}

/** Answer the one request of a connection and close it: the whole response and the FIN in one go. */
function answer(socket: Socket, method: string, resource: ClosingServerResource | undefined): void {
  socket.write(responseHead(resource === undefined ? '404 Not Found' : '200 OK', resource));
  if (resource !== undefined && method !== 'HEAD') socket.write(resource.body);
  socket.end();
}

/** Start a {@link ClosingServer} serving `resources` by path (a missing path is a 404). */
export async function startClosingServer(resources: Record<string, ClosingServerResource>): Promise<ClosingServer> {
  const sockets = new Set<Socket>();
  const requests: ClosingServerRequest[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let received = '';
    const onData = (chunk: Buffer): void => {
      // Request heads are small; a client that sends more than 64 KiB without one is not ours.
      received += chunk.toString('latin1');
      const request = parseRequest(received);
      if (request === undefined && received.length < 65_536) return;
      socket.off('data', onData);
      if (request === undefined) return void socket.destroy();
      requests.push(request);
      answer(socket, request.method, resources[request.path.split('?')[0] ?? '']);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
