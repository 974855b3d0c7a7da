import { createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * An HTTP proxy on 127.0.0.1 that refuses everything: `CONNECT` (HTTPS through the proxy) and
 * plain absolute-URI requests both get `403 Forbidden` and a closed connection, as a corporate
 * proxy that blocks a host does. Point `HTTPS_PROXY`/`HTTP_PROXY` at it (with `NO_PROXY` empty)
 * to prove a client honours the proxy and fails cleanly when it refuses.
 */
export interface RefusingProxy {
  readonly port: number;
  readonly url: string;
  /** Request lines received (`CONNECT host:port HTTP/1.1`, `GET http://… HTTP/1.1`). */
  readonly requests: readonly string[];
  close(): Promise<void>;
}

export async function startRefusingProxy(): Promise<RefusingProxy> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      if (head.includes('\r\n\r\n')) return;
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      requests.push(head.slice(0, head.indexOf('\r\n')));
      const body = 'refused by the proxy\n';
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
