import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, request as plainRequest, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRefusingProxy } from '@bentoport/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { discardBody, httpConnections, readBodyText } from './http-connections.js';
import { recodeErrors } from './stream-helpers.js';
import { resolveNetworkOptions } from './network-options.js';

const servers: Array<{ close(callback: () => void): void }> = [];
const sockets = new Set<Socket>();

async function listen<T extends Server | ReturnType<typeof createTcpServer>>(server: T): Promise<number> {
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

/** A server that writes the whole answer and its FIN at once, as `python3 -m http.server` does. */
function closingServer(body: Buffer) {
  return createTcpServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
      socket.write(body);
      socket.end();
    });
  });
}

/** A forward proxy: CONNECT tunnels and absolute-form requests; it records what it was asked. */
function forwardProxy(seen: string[], refuse = false) {
  const proxy = createHttpServer((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    const target = new URL(request.url ?? '');
    const upstream = plainRequest({ host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: request.method, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    request.pipe(upstream);
  });
  proxy.on('connect', (request, client: Socket) => {
    seen.push(`CONNECT ${request.url} ${request.headers['proxy-authorization'] ?? ''}`.trim());
    if (refuse) return void client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
    const [host, port] = (request.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
  });
  return proxy;
}

const network = (options: Parameters<typeof resolveNetworkOptions>[1] = {}) => resolveNetworkOptions('test', { env: {}, ...options });

describe('httpConnections', () => {
  it('reads every byte from a server that closes after each response, however slowly the body is read', async () => {
    const body = randomBytes(2 * 1024 * 1024);
    const port = await listen(closingServer(body));
    const connections = httpConnections(network());
    for (let attempt = 0; attempt < 10; attempt++) {
      const response = await connections.request(new URL(`http://127.0.0.1:${port}/x.tar.gz`), { method: 'GET' });
      const hash = createHash('sha256');
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        hash.update(chunk);
        await sleep(1);
      }
      expect(hash.digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
    }
    connections.close();
  });

  it('sends http requests through HTTP_PROXY in absolute form', async () => {
    const origin = await listen(createHttpServer((_, response) => response.end('hello')));
    const seen: string[] = [];
    const proxy = await listen(forwardProxy(seen));
    const connections = httpConnections(network({ env: { HTTP_PROXY: `http://127.0.0.1:${proxy}` } }));
    const response = await connections.request(new URL(`http://127.0.0.1:${origin}/a?b=c`), { method: 'GET' });
    expect(await readBodyText(response.body)).toBe('hello');
    expect(seen).toEqual([`GET http://127.0.0.1:${origin}/a?b=c`]);
    connections.close();
  });

  it('opens a CONNECT tunnel with the proxy credentials, and a refusal is an error naming the status', async () => {
    const seen: string[] = [];
    const proxy = await listen(forwardProxy(seen, true));
    const connections = httpConnections(network({ env: { HTTPS_PROXY: `http://me:s%40cret@127.0.0.1:${proxy}` }, retries: 0 }));
    const error = await connections.request(new URL('https://registry.example:8443/v2/'), { method: 'GET' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_PROXY_TUNNEL', status: 407 });
    expect((error as Error).message).toMatch(
      new RegExp(`^the proxy http://127\\.0\\.0\\.1:${proxy} refused the CONNECT to registry\\.example:8443 with 407 Proxy Authentication Required; put the proxy credentials`),
    );
    expect((error as Error).message).not.toContain('s%40cret');
    expect(seen).toEqual([`CONNECT registry.example:8443 Basic ${Buffer.from('me:s@cret').toString('base64')}`]);
    connections.close();
  });

  it('fails a silent server on timeoutMs, before the headers and within the body', async () => {
    const silent = await listen(createTcpServer((socket) => socket.on('error', () => {})));
    const stalling = await listen(
      createTcpServer((socket) => {
        socket.on('error', () => {});
        socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello'));
      }),
    );
    const connections = httpConnections(network({ timeoutMs: 200 }));
    await expect(connections.request(new URL(`http://127.0.0.1:${silent}/`), { method: 'GET' })).rejects.toMatchObject({
      code: 'ETIMEDOUT',
      message: 'no response within 200 ms (timeoutMs)',
    });
    const response = await connections.request(new URL(`http://127.0.0.1:${stalling}/`), { method: 'GET' });
    await expect(readBodyText(response.body)).rejects.toMatchObject({ code: 'ETIMEDOUT', message: 'no byte of the response body within 200 ms (timeoutMs)' });
    connections.close();
  });

  it('discards a short body and sends the next request on the same connection', async () => {
    const server = createHttpServer((_, response) => response.end('x'.repeat(1000)));
    let opened = 0;
    server.on('connection', () => opened++);
    const port = await listen(server);
    const connections = httpConnections(network());
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await connections.request(new URL(`http://127.0.0.1:${port}/`), { method: 'GET' });
      await discardBody(response.body);
      expect(response.body.readableEnded).toBe(true);
      // The socket goes back to the pool once the response is done, on a later tick.
      await sleep(5);
    }
    expect(opened).toBe(1);
    connections.close();
  });

  it('says a proxy that cannot be reached is the proxy, for plain and tunnelled requests, and keeps the code', async () => {
    // A port that was listening a moment ago and is closed now: nothing answers on it.
    const closed = await listen(createTcpServer());
    const server = servers.pop();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    for (const [variable, url] of [
      ['HTTP_PROXY', 'http://origin.example/x.bento'],
      ['HTTPS_PROXY', 'https://origin.example/x.bento'],
    ] as const) {
      const connections = httpConnections(network({ env: { [variable]: `http://me:secret@127.0.0.1:${closed}` }, retries: 0 }));
      const error = await connections.request(new URL(url), { method: 'GET' }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'ECONNREFUSED' });
      expect((error as Error).message).toMatch(new RegExp(`^proxy http://127\\.0\\.0\\.1:${closed} \\(from the \\*_PROXY environment variables\\) could not be reached: .*ECONNREFUSED`));
      expect((error as Error).message).not.toContain('secret');
      connections.close();
    }
  });
});

/** `promise`, or a rejection saying it was still pending after `ms`: a hang fails as an assertion. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('httpConnections through a proxy that refuses everything (403 to CONNECT and to every request)', () => {
  it('answers HEAD with the 403 of the proxy, whose unexpected body and close leave the answer readable to its end', async () => {
    // The refusing proxy sends a body after its answer to HEAD and closes: Node reports "Data after
    // `Connection: close`" once the answer was handed out. The answer's reader used to wait forever
    // (the CLI exited 13 with no output: the event loop emptied under a pending promise).
    const proxy = await startRefusingProxy();
    try {
      const connections = httpConnections(network({ env: { HTTP_PROXY: proxy.url, NO_PROXY: '' } }));
      for (const method of ['HEAD', 'GET']) {
        const response = await connections.request(new URL('http://127.0.0.1:9/v2/team/manifests/v1'), { method });
        expect(response.status).toBe(403);
        const text = await settledWithin(readBodyText(recodeErrors(response.body, (error) => new Error('recoded', { cause: error }))), 2_000);
        expect(text).toBe(method === 'HEAD' ? '' : 'refused by the proxy\n');
        // The answer says it came through the proxy, so a plugin can word a refusal as the proxy's.
        expect(response.proxy).toBe(proxy.url);
      }
      expect(proxy.requests).toEqual(['HEAD http://127.0.0.1:9/v2/team/manifests/v1 HTTP/1.1', 'GET http://127.0.0.1:9/v2/team/manifests/v1 HTTP/1.1']);
      connections.close();
    } finally {
      await proxy.close();
    }
  });

  it('rejects a tunnelled request with one line naming the proxy, the target and the status', async () => {
    const proxy = await startRefusingProxy();
    try {
      const connections = httpConnections(network({ env: { HTTPS_PROXY: proxy.url, NO_PROXY: '' } }));
      const error = await settledWithin(connections.request(new URL('https://registry.example:8443/v2/'), { method: 'GET' }).catch((caught: unknown) => caught), 2_000);
      expect(error).toMatchObject({
        code: 'ERR_PROXY_TUNNEL',
        status: 403,
        message: `the proxy ${proxy.url} refused the CONNECT to registry.example:8443 with 403 Forbidden; check HTTPS_PROXY/NO_PROXY`,
      });
      connections.close();
    } finally {
      await proxy.close();
    }
  });
});

describe('recodeErrors', () => {
  it('fails its reader with the recoded error when the source was destroyed before the call', async () => {
    const errored = new PassThrough();
    errored.on('error', () => {});
    errored.destroy(new Error('reset'));
    const cut = new PassThrough();
    cut.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    for (const source of [errored, cut]) {
      const reading = readBodyText(recodeErrors(source, (error) => new Error(`recoded: ${(error as Error).message}`)));
      await expect(settledWithin(reading, 2_000)).rejects.toThrow(/^recoded: (reset|Premature close)$/);
    }
  });
});
