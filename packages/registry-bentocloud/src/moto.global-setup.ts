/**
 * Starts a real S3 server (moto) for the tests: the BentoCloud API test double puts every byte on
 * it and hands out presigned URLs pointing at it. Without moto the tests skip with a message,
 * except when CI=true, where a missing server is a failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { commandSucceeds } from '@bentoport/test-utils';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `http://127.0.0.1:PORT` of moto, or '' when it is not installed. */
    motoEndpoint: string;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

let moto: ChildProcess | undefined;

export async function setup(project: TestProject): Promise<void> {
  if (!commandSucceeds('python3', ['-c', 'import moto.server'])) {
    const message = 'moto is not installed (pip install "moto[server]"): the BentoCloud tests need a real S3 server';
    if (process.env.CI === 'true') throw new Error(message);
    console.warn(`registry-bentocloud: ${message}; skipping them`);
    project.provide('motoEndpoint', '');
    return;
  }
  const port = await freePort();
  // Small parts keep the multipart tests quick; real S3 wants 5 MiB, which the client defaults above.
  moto = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
    env: { ...process.env, S3_UPLOAD_PART_MIN_SIZE: String(64 * 1024) },
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      await response.arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline || moto.exitCode !== null) throw new Error(`moto did not start on ${endpoint}`);
      await sleep(200);
    }
  }
  project.provide('motoEndpoint', endpoint);
}

export async function teardown(): Promise<void> {
  if (moto?.pid !== undefined && moto.exitCode === null) {
    moto.kill('SIGTERM');
    await new Promise((resolve) => moto?.once('exit', resolve));
  }
}
