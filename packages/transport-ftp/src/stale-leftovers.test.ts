import { readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { ProgressEvent } from '@bentoport/spec';
import { removeScratchDirs, startKilledWriter, type KilledWriter } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ftpTransport } from './ftp-transport.js';
import { makeUserDirectory, serverUrl, urlLocation } from './test-support/locations.js';

const servers = inject('ftp');
/** The built package, as the killed process (a user's export) runs it. */
const BUILT = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const DAY_MS = 24 * 60 * 60 * 1000;

describe.skipIf(servers.skip !== undefined)(`temporary files of killed FTP writes${servers.skip ? ` (skipped: ${servers.skip})` : ''}`, () => {
  const options = { ca: servers.certificate, retryDelayMs: 50 };
  let directory = '';
  beforeAll(() => {
    directory = servers.skip === undefined ? makeUserDirectory(servers, 'leftovers') : '';
  });
  afterAll(() => removeScratchDirs());

  const killedWriterAt = (name: string): Promise<KilledWriter> =>
    startKilledWriter({ module: BUILT, factory: 'ftpTransport', options, location: urlLocation(`${serverUrl(servers, 'plain')}${directory}/${name}`), bytes: 256 * 1024 });

  it('are removed by the next write to the same file, which says so; live and foreign ones stay', async () => {
    // Both write at once (a writer sweeps only dead writers' files), then one is killed.
    const killed = await killedWriterAt('svc.bento');
    const live = await killedWriterAt('svc.bento');
    await killed.kill();
    const leftover = readdirSync(directory).find((name) => name.includes(`-${killed.pid.toString(36)}-`));
    expect(leftover).toBeDefined();
    // Another host's fresh temporary file, and an old-style one not a day old, are not this run's to judge.
    const foreign = '.svc.bento.bentoport-00000000-1-0123456789ab.tmp';
    const ownerless = '.svc.bento.bentoport-3f9a0c12d4e5.tmp';
    const oldOwnerless = '.svc.bento.bentoport-4f9a0c12d4e5.tmp';
    for (const name of [foreign, ownerless, oldOwnerless]) writeFileSync(path.join(directory, name), 'x');
    const past = new Date(Date.now() - DAY_MS - 60_000);
    utimesSync(path.join(directory, oldOwnerless), past, past);

    try {
      const events: ProgressEvent[] = [];
      const writer = await ftpTransport(options).write(urlLocation(`${serverUrl(servers, 'plain')}${directory}/svc.bento`), { onProgress: (event) => events.push(event) });
      writer.stream.end('new bytes');
      await finished(writer.stream);
      await writer.commit();

      const liveLeftover = readdirSync(directory).find((name) => name.includes(`-${live.pid.toString(36)}-`));
      expect(liveLeftover).toBeDefined();
      expect(readdirSync(directory).sort()).toEqual([foreign, ownerless, liveLeftover, 'svc.bento'].sort());
      const notices = events.flatMap((event) => (event.type === 'notice' ? [event.message] : []));
      expect(notices.sort()).toEqual(
        [leftover, oldOwnerless].map((name) => `[transport-ftp] removed a stale leftover of an interrupted earlier run: ftp://${servers.user}:***@127.0.0.1:${servers.plainPort}${directory}/${name}`).sort(),
      );
    } finally {
      await live.kill();
    }
  });
});
