import { connect, createServer, type Server, type Socket } from 'node:net';

/** Cut the connection at the `occurrence`-th `PATCH` request, after `bodyBytes` bytes of its body (0: before any). */
export interface PatchFault {
  occurrence: number;
  bodyBytes: number;
}

/** A TCP proxy before a registry that counts the bytes each way and can cut a PATCH on cue. */
export interface FaultProxy {
  port: number;
  /** Bytes received from clients since the last `reset()`. */
  clientBytes(): number;
  /** Bytes the registry sent back to clients since the last `reset()`: what a client read. */
  serverBytes(): number;
  /** Request lines seen (method and path), since the last `reset()`. */
  requests(): string[];
  reset(): void;
  /** Arm a fault (counted from now), or disarm with undefined. */
  setFault(fault: PatchFault | undefined): void;
  /** Whether the armed fault has fired. */
  fired(): boolean;
  close(): Promise<void>;
}

const MARKER = Buffer.from('PATCH /v2/');
const REQUEST_LINE = /(?:^|\r\n)(GET|HEAD|POST|PUT|PATCH|DELETE) (\/\S*) HTTP\/1\.1\r\n/g;

export function startFaultProxy(upstreamPort: number): Promise<FaultProxy> {
  let bytes = 0;
  let answered = 0;
  let lines: string[] = [];
  let fault: PatchFault | undefined;
  let patchesSeen = 0;
  let didFire = false;
  const sockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: upstreamPort });
    sockets.add(client);
    sockets.add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    let carry = Buffer.alloc(0);
    /** Once the faulty PATCH is found: bytes still to forward before the cut (undefined while headers run). */
    let cutting: { headerTail: Buffer; budget: number | undefined } | undefined;
    const cut = () => {
      didFire = true;
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      for (const match of chunk.toString('latin1').matchAll(REQUEST_LINE)) lines.push(`${match[1]} ${match[2]}`);
      if (cutting) return forwardCutting(chunk);
      if (fault) {
        const combined = Buffer.concat([carry, chunk]);
        let from = 0;
        for (;;) {
          const index = combined.indexOf(MARKER, from);
          if (index === -1) break;
          from = index + 1;
          if (index + MARKER.length <= carry.length) continue; // counted with the previous chunk
          patchesSeen += 1;
          if (patchesSeen === fault.occurrence) {
            const start = Math.max(0, index - carry.length);
            upstream.write(chunk.subarray(0, start));
            if (fault.bodyBytes === 0) return cut();
            cutting = { headerTail: Buffer.alloc(0), budget: undefined };
            return forwardCutting(chunk.subarray(start));
          }
        }
        carry = combined.subarray(Math.max(0, combined.length - MARKER.length));
      }
      upstream.write(chunk);
    });
    function forwardCutting(chunk: Buffer): void {
      const state = cutting as { headerTail: Buffer; budget: number | undefined };
      let rest = chunk;
      if (state.budget === undefined) {
        const seen = Buffer.concat([state.headerTail, rest]);
        const end = seen.indexOf('\r\n\r\n');
        if (end === -1) {
          upstream.write(rest);
          state.headerTail = seen.subarray(Math.max(0, seen.length - 3));
          return;
        }
        const headerBytesInRest = end + 4 - state.headerTail.length;
        upstream.write(rest.subarray(0, headerBytesInRest));
        rest = rest.subarray(headerBytesInRest);
        state.budget = (fault as PatchFault).bodyBytes;
      }
      const take = Math.min(state.budget, rest.length);
      upstream.write(rest.subarray(0, take));
      state.budget -= take;
      if (state.budget === 0) setTimeout(cut, 200); // let the registry read what it got
    }
    upstream.on('data', (chunk: Buffer) => {
      answered += chunk.length;
      client.write(chunk);
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
        clientBytes: () => bytes,
        serverBytes: () => answered,
        requests: () => [...lines],
        reset: () => {
          bytes = 0;
          answered = 0;
          lines = [];
        },
        setFault: (next) => {
          fault = next;
          patchesSeen = 0;
          didFire = false;
        },
        fired: () => didFire,
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
