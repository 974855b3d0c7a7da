import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createBentoport, type ProgressEvent } from '@bentoport/core';
import { resolveNetworkOptions, uploadJournal } from '@bentoport/plugin-kit';
import { makeScratchDir, removeScratchDirs, writeSampleBento } from '@bentoport/test-utils';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ociRegistry } from './index.js';
import { createRegistryClient } from './registry-client.js';
import { removeStaleSessions } from './stale-sessions.js';
import { localState } from './upload-state.js';

const servers = inject('oci');
/** The built packages, as the killed process (a user's push) runs them. */
const BUILT = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;
const CORE = pathToFileURL(createRequire(import.meta.url).resolve('@bentoport/core')).href;
const KIT = pathToFileURL(createRequire(import.meta.url).resolve('@bentoport/plugin-kit')).href;
const CHUNK = 64 * 1024;

/**
 * The child: push `tag` and, once three chunks of the first blob are accepted, say so and freeze
 * (the event loop blocked, as a hung or busy process) until the test kills it.
 */
const CHILD_PROGRAM = `
const [core, oci, home, url, options] = process.argv.slice(1);
const { createBentoport } = await import(core);
const { ociRegistry } = await import(oci);
const registry = ociRegistry({ url, ...JSON.parse(options) });
// The registry's own count (bytes it confirmed), not core's bar (bytes read from the store, which
// runs ahead of the upload): the process must freeze with chunks saved in the registry.
const push = registry.push.bind(registry);
const frozenAfterChunks = (event) => {
  if (event.type !== 'bytes' || event.bytesDone < ${3 * CHUNK}) return;
  process.stdout.write('written\\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
};
registry.push = (item, options) => push(item, { ...options, onProgress: (event) => { options?.onProgress?.(event); frozenAfterChunks(event); } });
await createBentoport({ home, registries: [registry] }).push(process.argv[6]);
`;

interface PushingChild {
  pid: number;
  kill(): Promise<void>;
}

/** A separate process pushing `tag` from `home`, stopped mid-blob. */
async function pushingChild(home: string, url: string, options: object, tag: string): Promise<PushingChild> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD_PROGRAM, CORE, BUILT, home, url, JSON.stringify(options), tag], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const written = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('written')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    void exited.then(() => resolve(false));
  });
  const kill = async () => {
    child.kill('SIGKILL');
    await exited;
  };
  if (!written) {
    await kill();
    throw new Error(`the pushing child did not start uploading: ${output.slice(-2000)}`);
  }
  return { pid: child.pid as number, kill };
}

/**
 * The upload sessions the registry holds for a repository, in distribution's storage layout: a
 * cancelled one loses its `startedat` (distribution leaves an empty `hashstates` behind).
 */
async function sessionsOf(repository: string): Promise<string[]> {
  const uploads = path.join(servers.openData, 'docker', 'registry', 'v2', 'repositories', repository, '_uploads');
  const sessions: string[] = [];
  for (const name of await readdir(uploads).catch((): string[] => [])) {
    if ((await readdir(path.join(uploads, name)).catch((): string[] => [])).includes('startedat')) sessions.push(name);
  }
  return sessions;
}

describe.skipIf(servers.skip !== undefined)('upload sessions of killed pushes', () => {
  afterAll(() => removeScratchDirs());

  it('are cancelled by the next push to the repository, which says so; a live push’s session stays', async () => {
    const state = await makeScratchDir('oci-leftover-state');
    const options = { cacheDirectory: false as const, dockerConfig: false, env: { BENTOPORT_STATE_DIR: state }, chunkSize: CHUNK, retries: 0 };
    const prefix = `leftovers${process.pid}`;
    const url = `oci://127.0.0.1:${servers.openPort}/${prefix}`;
    const killedHome = await makeScratchDir('oci-leftover-killed');
    const liveHome = await makeScratchDir('oci-leftover-live');
    await writeSampleBento(killedHome, { name: 'svc', version: 'v1', models: [{ name: 'weights', version: 'v1', weightsBytes: 2 * 1024 * 1024 }] });
    await writeSampleBento(liveHome, { name: 'svc', version: 'v2', seed: 2, models: [{ name: 'weights', version: 'v2', weightsBytes: 2 * 1024 * 1024 }] });
    const repository = `${prefix}/models/weights`;

    const killed = await pushingChild(killedHome, url, options, 'svc:v1');
    const live = await pushingChild(liveHome, url, options, 'svc:v2');
    await killed.kill();
    try {
      expect(await sessionsOf(repository)).toHaveLength(2);
      const events: ProgressEvent[] = [];
      const registry = ociRegistry({ url, ...options });
      await createBentoport({ home: killedHome, registries: [registry], onProgress: (event) => events.push(event) }).push('svc:v1');

      // The live push's session is the one left.
      expect(await sessionsOf(repository)).toHaveLength(1);
      const notices = events.flatMap((event) => (event.type === 'notice' ? [event.message] : []));
      expect(notices).toContain(`[registry-oci] removed a stale leftover of an interrupted earlier run: unfinished blob upload to 127.0.0.1:${servers.openPort}/${repository}`);
      // Only the live push's record is left.
      expect(await readdir(path.join(state, 'leftovers'))).toHaveLength(1);
    } finally {
      await live.kill();
    }
  });

  it('in a model’s repository are cancelled by the next push of a bento using the model, also when the registry has that model already', async () => {
    const state = await makeScratchDir('oci-leftover-models-state');
    const options = { cacheDirectory: false as const, dockerConfig: false, env: { BENTOPORT_STATE_DIR: state }, chunkSize: CHUNK, retries: 0 };
    const prefix = `modelrepos${process.pid}`;
    const url = `oci://127.0.0.1:${servers.openPort}/${prefix}`;
    const home = await makeScratchDir('oci-leftover-models-home');
    const killedHome = await makeScratchDir('oci-leftover-models-killed');
    await writeSampleBento(home, { name: 'svc', version: 'v1', models: [{ name: 'weights', version: 'v1', weightsBytes: 256 * 1024 }] });
    await writeSampleBento(killedHome, { name: 'svc', version: 'v2', seed: 2, models: [{ name: 'weights', version: 'v2', weightsBytes: 2 * 1024 * 1024 }] });
    const repository = `${prefix}/models/weights`;
    const registry = ociRegistry({ url, ...options });
    await createBentoport({ home, registries: [registry] }).push('svc:v1');
    // Killed while pushing weights:v2, the model's repository holds its session.
    const killed = await pushingChild(killedHome, url, options, 'svc:v2');
    await killed.kill();
    expect(await sessionsOf(repository)).toHaveLength(1);

    // Another bento using weights:v1, which the registry has: the engine skips the model's push.
    await writeSampleBento(home, { name: 'other', version: 'v1', seed: 3, models: [{ name: 'weights', version: 'v1', weightsBytes: 256 * 1024 }] });
    const events: ProgressEvent[] = [];
    await createBentoport({ home, registries: [registry], onProgress: (event) => events.push(event) }).push('other:v1');

    expect(await sessionsOf(repository)).toEqual([]);
    const notices = events.flatMap((event) => (event.type === 'notice' ? [event.message] : []));
    expect(notices).toContain(`[registry-oci] removed a stale leftover of an interrupted earlier run: unfinished blob upload to 127.0.0.1:${servers.openPort}/${repository}`);
    expect(await readdir(path.join(state, 'leftovers'))).toEqual([]);
  });

  it('with saved state are continued by the next push of the item, which leaves no session behind', async () => {
    const state = await makeScratchDir('oci-leftover-cache');
    const options = { cacheDirectory: state, dockerConfig: false, env: {}, chunkSize: CHUNK, retries: 0 };
    const prefix = `resumed${process.pid}`;
    const url = `oci://127.0.0.1:${servers.openPort}/${prefix}`;
    const home = await makeScratchDir('oci-leftover-resumed');
    await writeSampleBento(home, { name: 'svc', version: 'v1', models: [{ name: 'weights', version: 'v1', weightsBytes: 2 * 1024 * 1024 }] });
    const repository = `${prefix}/models/weights`;

    const killed = await pushingChild(home, url, options, 'svc:v1');
    await killed.kill();
    expect(await sessionsOf(repository)).toHaveLength(1);
    const events: ProgressEvent[] = [];
    await createBentoport({ home, registries: [ociRegistry({ url, ...options })], onProgress: (event) => events.push(event) }).push('svc:v1');

    expect(await sessionsOf(repository)).toEqual([]);
    expect(events.some((event) => event.type === 'notice' && event.message.includes('resuming the upload'))).toBe(true);
    expect(await readdir(path.join(state, 'leftovers'))).toEqual([]);
  });
});

describe('the sweep of killed pushes’ sessions against a registry that accepts and never answers', () => {
  it('stops at the first unanswered DELETE, keeping the records, instead of waiting timeoutMs for each', async () => {
    const sockets = new Set<Socket>();
    let connections = 0;
    const silent = createServer((socket) => {
      connections += 1;
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const directory = await makeScratchDir('oci-sweep-journal');
    // Three records of a process that has exited: what three killed pushes left.
    const scope = `${host}/team/svc`;
    const writer = `const { uploadJournal } = await import(process.argv[1]);
      const journal = uploadJournal({ directory: process.argv[2] });
      for (const n of [1, 2, 3]) await journal.record({ component: 'registry-oci', scope: process.argv[3], upload: 'http://' + process.argv[4] + '/v2/team/svc/blobs/uploads/s' + n, details: {} });`;
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', writer, KIT, directory, scope, host], { stdio: 'inherit' });
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`journal writer exited ${code}`))));
    });
    const journal = uploadJournal({ directory });
    expect(await journal.stale('registry-oci', scope)).toHaveLength(3);
    try {
      const network = resolveNetworkOptions('registry-oci', { env: {}, timeoutMs: 300, retries: 0 });
      const client = createRegistryClient({ host, scheme: 'http', network, credentials: () => Promise.resolve(undefined), userAgent: 'bentoport-test' });
      await removeStaleSessions({ client, host, journal, state: localState(undefined) }, 'team/svc', undefined);
      // Before: one DELETE per record, each waiting out timeoutMs.
      expect(connections).toBe(1);
      expect(await journal.stale('registry-oci', scope)).toHaveLength(3);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
