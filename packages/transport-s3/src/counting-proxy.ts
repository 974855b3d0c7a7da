/**
 * Test utility: a TCP proxy between the client and a real server that counts the bytes each way,
 * notes when part uploads (`PUT …partNumber=`) are in flight, and can cut every connection after
 * a number of bytes ("the network goes down") until restored. Not part of the package's API.
 */
import { createServer, createConnection, type Server, type Socket } from 'node:net';

export interface CountingProxy {
  /** `http://127.0.0.1:PORT`: use as the S3 endpoint. */
  readonly url: string;
  /** Bytes sent by clients towards the server. */
  readonly bytesUp: number;
  /** Bytes sent by the server back to clients. */
  readonly bytesDown: number;
  /** Connections accepted. */
  readonly connections: number;
  /** The most part uploads that were in flight at the same moment. */
  readonly maxConcurrentPartUploads: number;
  /** Request lines seen (method and path), in order. */
  readonly requests: readonly string[];
  /** The header blocks of those requests (lower-cased), in the same order. */
  readonly requestHeads: readonly string[];
  /**
   * Cut every connection once the bytes sent up (or down) pass `bytes`, counted from now; then,
   * unless `stayDown` is false, refuse new connections until `restore()`.
   */
  cutAfter(bytes: number, options?: { direction?: 'up' | 'down'; stayDown?: boolean }): void;
  /** Accept and forward connections again. */
  restore(): void;
  /** Zero the counters. */
  reset(): void;
  close(): Promise<void>;
}

const REQUEST_LINE = /(?:^|\r\n)(GET|PUT|POST|HEAD|DELETE) (\S+) HTTP\/1\.1\r\n/;

export async function startCountingProxy(target: { host: string; port: number }): Promise<CountingProxy> {
  const sockets = new Set<Socket>();
  let bytesUp = 0;
  let bytesDown = 0;
  let connections = 0;
  let cutAt: { direction: 'up' | 'down'; bytes: number; stayDown: boolean } | undefined;
  let down = false;
  let partUploads = 0;
  let maxConcurrentPartUploads = 0;
  const requests: string[] = [];
  const requestHeads: string[] = [];

  function cutEverything(stayDown = true): void {
    down = stayDown;
    for (const socket of sockets) socket.destroy();
  }

  /** Whether a pending cut is due now; performs it. */
  function cutDue(): boolean {
    if (cutAt === undefined) return false;
    const counted = cutAt.direction === 'up' ? bytesUp : bytesDown;
    if (counted < cutAt.bytes) return false;
    const { stayDown } = cutAt;
    cutAt = undefined;
    cutEverything(stayDown);
    return true;
  }

  const server: Server = createServer((client) => {
    connections += 1;
    if (down) {
      client.destroy();
      return;
    }
    const upstream = createConnection(target);
    sockets.add(client);
    sockets.add(upstream);
    /** Whether this connection carries a part upload whose response has not started yet. */
    let partInFlight = false;
    const endPart = () => {
      if (partInFlight) {
        partInFlight = false;
        partUploads -= 1;
      }
    };
    client.on('data', (chunk: Buffer) => {
      if (down) return;
      const head = REQUEST_LINE.exec(chunk.subarray(0, 4096).toString('latin1'));
      if (head) {
        requests.push(`${head[1]} ${head[2]}`);
        const text = chunk.subarray(head.index, head.index + 8192).toString('latin1');
        requestHeads.push(text.slice(0, text.indexOf('\r\n\r\n') + 1 || undefined).toLowerCase());
        if (head[1] === 'PUT' && /[?&]partNumber=/.test(head[2] ?? '') && !partInFlight) {
          partInFlight = true;
          partUploads += 1;
          maxConcurrentPartUploads = Math.max(maxConcurrentPartUploads, partUploads);
        }
      }
      bytesUp += chunk.length;
      if (cutDue()) return;
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (chunk: Buffer) => {
      // An interim `100 Continue` (the SDK sends `Expect: 100-continue` for large bodies) is not the answer.
      const status = chunk.subarray(0, 12).toString('latin1');
      if (status.startsWith('HTTP/1.1 ') && !status.startsWith('HTTP/1.1 100')) endPart();
      bytesDown += chunk.length;
      if (cutDue()) return;
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    const close = () => {
      endPart();
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the counting proxy has no port');

  return {
    url: `http://127.0.0.1:${address.port}`,
    get bytesUp() {
      return bytesUp;
    },
    get bytesDown() {
      return bytesDown;
    },
    get connections() {
      return connections;
    },
    get maxConcurrentPartUploads() {
      return maxConcurrentPartUploads;
    },
    requests,
    requestHeads,
    cutAfter(bytes, options = {}) {
      const direction = options.direction ?? 'up';
      cutAt = { direction, bytes: (direction === 'up' ? bytesUp : bytesDown) + bytes, stayDown: options.stayDown ?? true };
    },
    restore() {
      down = false;
      cutAt = undefined;
    },
    reset() {
      bytesUp = 0;
      bytesDown = 0;
      connections = 0;
      maxConcurrentPartUploads = partUploads;
      requests.length = 0;
      requestHeads.length = 0;
    },
    close() {
      cutEverything();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
