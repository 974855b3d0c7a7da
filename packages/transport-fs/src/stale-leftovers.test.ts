import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { finished } from 'node:stream/promises';
import type { Location, ProgressEvent } from '@bentoport/spec';
import { startKilledWriter, type KilledWriter } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fsTransport } from './fs-transport.js';

/** The built package, as the killed process (a user's export) runs it. */
const BUILT = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const DAY_MS = 24 * 60 * 60 * 1000;

function fileLocation(filePath: string): Location {
  return { protocol: 'file', host: '', path: filePath, query: '', display: filePath };
}

function killedWriterAt(target: string): Promise<KilledWriter> {
  return startKilledWriter({ module: BUILT, factory: 'fsTransport', location: fileLocation(target), bytes: 256 * 1024 });
}

describe('temporary files of killed writes', () => {
  let root = '';
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'bentoport-fs-leftovers-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('are removed by the next write to the same file, which says so; live and foreign ones stay', async () => {
    const directory = await mkdtemp(path.join(root, 'case-'));
    const target = path.join(directory, 'svc.bento');
    // All three write at once (a writer sweeps only dead writers' files), then two are killed.
    const killed = [await killedWriterAt(target), await killedWriterAt(target)];
    const live = await killedWriterAt(target);
    for (const writer of killed) await writer.kill();
    const leftovers = (await readdir(directory)).sort();
    expect(leftovers).toHaveLength(3);
    // Another host's fresh temporary file, and one for another target, are not this run's to judge.
    const foreign = '.svc.bento.bentoport-00000000-1-0123456789ab.tmp';
    const otherTarget = `.other.bento${leftovers[0]?.slice('.svc.bento'.length)}`;
    await writeFile(path.join(directory, foreign), 'x');
    await writeFile(path.join(directory, otherTarget), 'x');

    try {
      const events: ProgressEvent[] = [];
      const writer = await fsTransport().write(fileLocation(target), { onProgress: (event) => events.push(event) });
      writer.stream.end('new bytes');
      await finished(writer.stream);
      await writer.commit();

      const after = await readdir(directory);
      const livePid = live.pid.toString(36);
      expect(after.filter((name) => name.includes(`-${livePid}-`))).toHaveLength(1);
      expect(after.sort()).toEqual([foreign, otherTarget, after.find((name) => name.includes(`-${livePid}-`)), 'svc.bento'].sort());
      const notices = events.filter((event) => event.type === 'notice').map((event) => (event as { message: string }).message);
      expect(notices).toHaveLength(2);
      for (const notice of notices) expect(notice).toMatch(/^\[transport-fs\] removed a stale leftover of an interrupted earlier run: .*\/\.svc\.bento\.bentoport-.*\.tmp$/);
    } finally {
      await live.kill();
    }
  });

  it('from before owners were named are removed once a day old', async () => {
    const directory = await mkdtemp(path.join(root, 'case-'));
    const target = path.join(directory, 'svc.bento');
    const old = path.join(directory, '.svc.bento.bentoport-3f9a0c12d4e5.tmp');
    const recent = path.join(directory, '.svc.bento.bentoport-4f9a0c12d4e5.tmp');
    await writeFile(old, 'x');
    await writeFile(recent, 'x');
    const past = new Date(Date.now() - DAY_MS - 60_000);
    await utimes(old, past, past);

    const writer = await fsTransport().write(fileLocation(target));
    await writer.abort();
    expect(await readdir(directory)).toEqual([path.basename(recent)]);
  });
});
