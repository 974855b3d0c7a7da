import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** A bearer-token front for a registry: what GHCR and Docker Hub do, small enough to read. */
export interface TokenFront {
  server: Server;
  port: number;
  /** Token requests seen, with the scopes asked for. */
  tokenRequests: string[][];
  close(): Promise<void>;
}

/** The repository and the actions a distribution API request needs, or undefined for `/v2/`. */
function neededScope(method: string, url: URL): string[] {
  const match = /^\/v2\/(.+?)\/(manifests|blobs|tags)\//.exec(url.pathname);
  if (!match) return [];
  const action = method === 'GET' || method === 'HEAD' ? 'pull' : 'push';
  const scopes = [`repository:${match[1] as string}:${action}`];
  const from = url.searchParams.get('from');
  if (from) scopes.push(`repository:${from}:pull`);
  return scopes;
}

/** True when the granted scopes cover `needed` (`repository:x:pull,push` grants both actions). */
function covers(granted: string[], needed: string): boolean {
  const [type, name, action] = needed.split(':');
  return granted.some((scope) => {
    const parts = scope.split(':');
    return parts[0] === type && parts[1] === name && (parts[2] ?? '').split(',').includes(action as string);
  });
}

/**
 * Listen on 127.0.0.1:port: `GET /token` hands scoped tokens to `user:password` (Basic), every
 * other request needs a bearer token covering its repository and action (else 401 with a
 * `WWW-Authenticate: Bearer realm=…,service=…,scope=…` challenge), and is then passed to the
 * registry at `upstreamPort` unchanged, Host header included, so its Location headers point here.
 */
export function startTokenFront(port: number, upstreamPort: number, user: string, password: string): Promise<TokenFront> {
  const tokens = new Map<string, string[]>();
  const tokenRequests: string[][] = [];
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const realm = `http://127.0.0.1:${port}/token`;

  function handleToken(incoming: IncomingMessage, response: ServerResponse, url: URL): void {
    const scopes = url.searchParams.getAll('scope').flatMap((scope) => scope.split(' ')).filter(Boolean);
    tokenRequests.push(scopes);
    if (incoming.headers.authorization !== expected) {
      response.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
      return;
    }
    const token = randomBytes(16).toString('hex');
    tokens.set(token, scopes);
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
  }

  const server = createServer((incoming, response) => {
    const url = new URL(incoming.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname === '/token') return handleToken(incoming, response, url);
    const needed = neededScope(incoming.method ?? 'GET', url);
    const bearer = /^Bearer (\S+)$/.exec(incoming.headers.authorization ?? '')?.[1];
    const granted = bearer === undefined ? undefined : tokens.get(bearer);
    if (granted === undefined || !needed.every((scope) => covers(granted, scope))) {
      const scopeText = needed.map((scope) => scope.replace(/:push$/, ':pull,push')).join(' ');
      incoming.resume();
      response
        .writeHead(401, {
          'content-type': 'application/json',
          'www-authenticate': `Bearer realm="${realm}",service="test-registry"${scopeText ? `,scope="${scopeText}"` : ''}`,
        })
        .end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    const headers = { ...incoming.headers };
    delete headers.authorization;
    const upstream = request({ host: '127.0.0.1', port: upstreamPort, method: incoming.method, path: incoming.url, headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.destroy());
    incoming.pipe(upstream);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve({
        server,
        port,
        tokenRequests,
        close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
      }),
    );
  });
}
