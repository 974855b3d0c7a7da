import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A counting FTP proxy for fault tests. It forwards the control connection to the server and
 * rewrites each passive-mode reply (227 PASV, 229 EPSV) to a one-shot data forwarder of its own,
 * so that data connections, which would otherwise go straight to vsftpd's passive ports, pass
 * through it too. Every data byte is counted; `cutAfter(n)` makes the next data connection that
 * passes n bytes deliver exactly those n bytes and then break: the receiving side gets them all
 * followed by an end, the sending side a reset, as when a network path dies.
 */
export interface FtpCuttingProxy {
  readonly port: number;
  /** Data bytes forwarded, both directions, since the start (or the last `reset`). */
  readonly dataBytes: number;
  /** Data connections cut so far. */
  readonly cuts: number;
  cutAfter(bytes: number): void;
  reset(): void;
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

export async function startFtpCuttingProxy(targetPort: number): Promise<FtpCuttingProxy> {
  let dataBytes = 0;
  let cuts = 0;
  let cutAt: number | undefined;
  const sockets = new Set<Socket>();
  const servers = new Set<Server>();
  const track = (socket: Socket): Socket => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    return socket;
  };

  /** Forward `from` → `to`, counting; when armed, cut once this connection passes the mark. */
  function forwardData(from: Socket, to: Socket, counter: { bytes: number }, cut: () => boolean): void {
    from.on('data', (chunk: Buffer) => {
      const limit = cutAt;
      if (limit !== undefined && counter.bytes + chunk.length >= limit) {
        const keep = chunk.subarray(0, Math.max(0, limit - counter.bytes));
        counter.bytes += keep.length;
        dataBytes += keep.length;
        if (cut()) {
          to.end(keep);
          from.resetAndDestroy();
          return;
        }
      }
      counter.bytes += chunk.length;
      dataBytes += chunk.length;
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.on('end', () => to.end());
    from.on('close', () => to.destroy());
  }

  async function dataForwarder(serverPort: number): Promise<number> {
    const server = createServer((client) => {
      server.close();
      track(client);
      const upstream = track(connect(serverPort, '127.0.0.1'));
      const counter = { bytes: 0 };
      let done = false;
      const cut = (): boolean => {
        if (done) return false;
        done = true;
        cutAt = undefined;
        cuts++;
        return true;
      };
      forwardData(client, upstream, counter, cut);
      forwardData(upstream, client, counter, cut);
    });
    servers.add(server);
    server.on('close', () => servers.delete(server));
    return listen(server);
  }

  async function rewrite(line: string): Promise<string> {
    const epsv = /^229 (.*)\(\|\|\|(\d+)\|\)/.exec(line);
    if (epsv) return `229 ${epsv[1]}(|||${await dataForwarder(Number(epsv[2]))}|)`;
    const pasv = /^227 (.*)\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(line);
    if (pasv) {
      const port = await dataForwarder(Number(pasv[6]) * 256 + Number(pasv[7]));
      return `227 ${pasv[1]}(127,0,0,1,${Math.floor(port / 256)},${port % 256})`;
    }
    return line;
  }

  const control = createServer((client) => {
    track(client);
    const upstream = track(connect(targetPort, '127.0.0.1'));
    client.pipe(upstream);
    let pending = '';
    let queue = Promise.resolve();
    upstream.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      const lines = pending.split('\r\n');
      pending = lines.pop() ?? '';
      queue = queue.then(async () => {
        for (const line of lines) client.write(`${await rewrite(line)}\r\n`, 'latin1');
      });
    });
    upstream.on('end', () => void queue.then(() => client.end()));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const port = await listen(control);

  return {
    port,
    get dataBytes() {
      return dataBytes;
    },
    get cuts() {
      return cuts;
    },
    cutAfter(bytes) {
      cutAt = bytes;
    },
    reset() {
      dataBytes = 0;
      cuts = 0;
      cutAt = undefined;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      for (const server of servers) server.close();
      await new Promise((resolve) => control.close(resolve));
    },
  };
}
