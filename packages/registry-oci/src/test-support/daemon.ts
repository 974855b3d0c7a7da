import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A free TCP port on 127.0.0.1 (the kernel picks it; closed again before it is used). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A server process started by the tests, stopped by its PID. */
export interface Daemon {
  readonly name: string;
  readonly child: ChildProcess;
  /** What it printed, for a failure message. */
  output(): string;
  stop(): Promise<void>;
}

/** Start `command`, then wait (at most `timeoutMilliseconds`) until every port accepts connections. */
export async function startDaemon(name: string, command: string, args: string[], ports: number[], timeoutMilliseconds = 10_000): Promise<Daemon> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  const daemon: Daemon = {
    name,
    child,
    output: () => output,
    stop: async () => {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const stopped = await Promise.race([gone.then(() => true), sleep(5_000).then(() => false)]);
      if (!stopped) {
        child.kill('SIGKILL');
        await gone;
      }
    },
  };
  const deadline = Date.now() + timeoutMilliseconds;
  for (;;) {
    if (exited) throw new Error(`${name} exited before it listened: ${output}`);
    const ready = await Promise.all(ports.map(canConnect));
    if (ready.every(Boolean)) return daemon;
    if (Date.now() > deadline) {
      await daemon.stop();
      throw new Error(`${name} did not listen on ${ports.join(', ')} within ${timeoutMilliseconds} ms: ${output}`);
    }
    await sleep(50);
  }
}
