import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { ProgressEvent } from '@bentoport/spec';
import { makeScratchDir, removeScratchDirs, startKilledWriter, type KilledWriter } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { httpTransport } from './http-transport.js';
import { httpLocation, uniqueName } from './test-support/locations.js';

const servers = inject('http');
/** The built package, as the killed process (a user's export) runs it. */
const BUILT = fileURLToPath(new URL('../dist/index.js', import.meta.url));

describe.skipIf(servers.skip !== undefined)(`temporary resources of killed WebDAV writes${servers.skip ? ` (skipped: ${servers.skip})` : ''}`, () => {
  /** The killed writers and the next write share a state directory, as one user's runs do. */
  let stateDirectory = '';
  let options: { retryDelayMs: number; env: Record<string, string> } = { retryDelayMs: 50, env: {} };
  beforeAll(async () => {
    stateDirectory = await makeScratchDir('http-leftovers-state');
    options = { retryDelayMs: 50, env: { BENTOPORT_STATE_DIR: stateDirectory } };
  });
  afterAll(() => removeScratchDirs());

  const records = () => readdirSync(path.join(stateDirectory, 'leftovers')).filter((name) => name.startsWith('transport-http-'));

  /** A fresh collection under `parent` on the WebDAV server: its URL path, its files on disk, a location in it. */
  function collection(parent: string, host: string) {
    const urlPath = `${parent}/${uniqueName('leftovers')}`;
    const onDisk = path.join(servers.davRoot, urlPath);
    mkdirSync(onDisk, { recursive: true });
    return { urlPath, onDisk, at: (name: string) => httpLocation('http', host, `${urlPath}/${name}`), names: () => readdirSync(onDisk) };
  }

  /**
   * A writer in another process that has sent all its bytes and not committed: nginx shows a PUT's
   * file only once its body is complete, so this is what a SIGKILL between the PUT and the MOVE
   * leaves. Resolves once the temporary file is there.
   */
  async function writerBeforeCommit(location: unknown, onDisk: string, writerOptions: object = options): Promise<KilledWriter> {
    const writer = await startKilledWriter({ module: BUILT, factory: 'httpTransport', options: writerOptions, location, bytes: 256 * 1024, end: true });
    for (let attempt = 0; attempt < 500 && temporaryOf(onDisk, writer) === undefined; attempt++) await sleep(10);
    return writer;
  }

  const temporaryOf = (onDisk: string, writer: KilledWriter) => readdirSync(onDisk).find((name) => name.includes(`-${writer.pid.toString(36)}-`));

  async function writeAndCommit(location: Parameters<ReturnType<typeof httpTransport>['write']>[0], writerOptions: object = options): Promise<string[]> {
    const events: ProgressEvent[] = [];
    const writer = await httpTransport(writerOptions).write(location, { onProgress: (event) => events.push(event) });
    writer.stream.end('new bytes');
    await finished(writer.stream);
    await writer.commit();
    return events.flatMap((event) => (event.type === 'notice' ? [event.message] : []));
  }

  it('are DELETEd by the next write to the same URL, which says so; a live writer’s and another target’s stay', async () => {
    const host = `${servers.user}:${encodeURIComponent(servers.password)}@127.0.0.1:${servers.davPort}`;
    const { urlPath, onDisk, at, names } = collection('/private', host);
    const killed = await writerBeforeCommit(at('svc.bento'), onDisk);
    const live = await writerBeforeCommit(at('svc.bento'), onDisk);
    const otherTarget = await writerBeforeCommit(at('other.bento'), onDisk);
    await Promise.all([killed.kill(), otherTarget.kill()]);
    const leftover = temporaryOf(onDisk, killed);
    const otherLeftover = temporaryOf(onDisk, otherTarget);
    expect(leftover).toMatch(/^\.svc\.bento\.bentoport-[0-9a-f]{8}-[0-9a-z]+-[0-9a-f]{12}\.tmp$/);
    expect(otherLeftover).toBeDefined();

    try {
      const notices = await writeAndCommit(at('svc.bento'));
      const liveLeftover = temporaryOf(onDisk, live);
      expect(liveLeftover).toBeDefined();
      expect(names().sort()).toEqual([liveLeftover, otherLeftover, 'svc.bento'].sort());
      expect(readFileSync(path.join(onDisk, 'svc.bento'), 'utf8')).toBe('new bytes');
      expect(notices).toEqual([`[transport-http] removed a stale leftover of an interrupted earlier run: http://${servers.user}:***@127.0.0.1:${servers.davPort}${urlPath}/${leftover}`]);
      // What is left to sweep later: the live writer's record and the other target's, never a password.
      const left = records().map((name) => readFileSync(path.join(stateDirectory, 'leftovers', name), 'utf8'));
      expect(left.map((text) => (JSON.parse(text) as { upload: string }).upload.split('/').pop()).sort()).toEqual([liveLeftover, otherLeftover].sort());
      expect(left.join('')).not.toContain(encodeURIComponent(servers.password));
    } finally {
      await live.kill();
    }
  });

  it('are found without listing: also on a WebDAV server without PROPFIND, and without a word when the PUT never finished', async () => {
    const { onDisk, at, names } = collection('/no-propfind', `127.0.0.1:${servers.davPort}`);
    const forced = { ...options, webdav: true };
    const killed = await writerBeforeCommit(at('svc.bento'), onDisk, forced);
    // Killed in the middle of its body: nginx stores nothing, only the record is left.
    const midBody = await startKilledWriter({ module: BUILT, factory: 'httpTransport', options: forced, location: at('svc.bento'), bytes: 64 * 1024 });
    await Promise.all([killed.kill(), midBody.kill()]);
    const leftover = temporaryOf(onDisk, killed);
    expect(leftover).toBeDefined();
    const before = records().length;

    const notices = await writeAndCommit(at('svc.bento'), forced);
    expect(names()).toEqual(['svc.bento']);
    expect(notices).toEqual([`[transport-http] removed a stale leftover of an interrupted earlier run: http://127.0.0.1:${servers.davPort}${at('svc.bento').path.replace(/svc\.bento$/, leftover as string)}`]);
    expect(records().length).toBe(before - 2);
  });
});
