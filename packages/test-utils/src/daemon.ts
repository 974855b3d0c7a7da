import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A server process started for the tests, with what it printed (for failure messages). */
export interface Daemon {
  readonly process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export function startDaemon(command: string, args: string[]): Daemon {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.on('error', (error) => collect(Buffer.from(`spawn failed: ${error.message}\n`)));
  return {
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]);
      if (!done) child.kill('SIGKILL');
    },
  };
}

/**
 * Resolve once something on 127.0.0.1:port sends a first line starting with `prefix`, or just
 * accepts a connection when `prefix` is empty (at most `timeout` ms).
 */
export async function waitForBanner(port: number, prefix: string, daemon: Daemon, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  let lastError = '';
  while (Date.now() < deadline) {
    if (daemon.process.exitCode !== null) throw new Error(`the server exited (${daemon.process.exitCode}): ${daemon.output()}`);
    let connected = false;
    const line = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        connected = true;
        if (prefix === '') socket.destroy();
      });
      let text = '';
      socket.setTimeout(2000, () => socket.destroy());
      socket.on('data', (chunk) => {
        text += chunk.toString();
        if (text.includes('\n')) socket.destroy();
      });
      socket.on('error', (error) => {
        lastError = error.message;
      });
      socket.on('close', () => resolve(text));
    });
    if (prefix === '' ? connected : line.startsWith(prefix)) return;
    if (line !== '') lastError = line.trim();
    await sleep(100);
  }
  throw new Error(`no '${prefix}' banner on 127.0.0.1:${port} within ${timeout} ms (${lastError}): ${daemon.output()}`);
}

/**
 * Start a server and resolve once every port in `ports` accepts connections (at most `timeout`
 * ms each); a server that fails to come up is stopped and the error carries its output.
 */
export async function startDaemonOnPorts(command: string, args: string[], ports: number[], timeout = 10_000): Promise<Daemon> {
  const daemon = startDaemon(command, args);
  try {
    for (const port of ports) await waitForBanner(port, '', daemon, timeout);
  } catch (error) {
    await daemon.stop();
    throw error;
  }
  return daemon;
}
