import { connect, createServer, type Socket } from 'node:net';

/** A TCP proxy before a registry that holds back the answer to one request (a `PATCH` unless told) once the registry has sent it. */
export interface HeldAnswerProxy {
  port: number;
  /** Whether the held answer has come from the registry. */
  held(): boolean;
  close(): Promise<void>;
}

/** Options of {@link startHeldAnswerProxy}. */
export interface HeldAnswerProxyOptions {
  upstreamPort: number;
  /** The request (counted from 1, over every connection) whose answer is held. */
  occurrence: number;
  /** Which requests are counted: their request line, with the `g` flag. @default every `PATCH` */
  requestLine?: RegExp;
  /** How long the answer is held before it is forwarded. */
  holdMs: number;
  /** Called when the registry's answer arrives: the registry has taken the whole body by then. */
  onAnswer: () => void;
}

const PATCH_LINE = /(?:^|\r\n)PATCH \/v2\/\S* HTTP\/1\.1\r\n/g;

/**
 * The moment a stopped push is most likely to meet: the registry has taken a chunk, and its answer
 * (with the session's next `Location`) is still on the way. A test stops the push in `onAnswer`.
 */
export function startHeldAnswerProxy(options: HeldAnswerProxyOptions): Promise<HeldAnswerProxy> {
  let patches = 0;
  let answered = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: options.upstreamPort });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    /** Whether the request this connection waits the answer of is the held PATCH. */
    let holding = false;
    client.on('data', (chunk: Buffer) => {
      for (const _ of chunk.toString('latin1').matchAll(options.requestLine ?? PATCH_LINE)) {
        patches += 1;
        if (patches === options.occurrence) holding = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!holding) return void client.write(chunk);
      holding = false;
      answered = true;
      options.onAnswer();
      upstream.pause();
      setTimeout(() => {
        client.write(chunk);
        upstream.resume();
      }, options.holdMs);
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        port,
        held: () => answered,
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
