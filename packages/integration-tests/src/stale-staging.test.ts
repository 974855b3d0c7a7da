import { spawnSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeSampleBento } from '@bentoport/test-utils';
import { describe, expect, it } from 'vitest';
import { bentoportAt, scratch } from './harness.js';

/** The pid of a process that has already exited, as a killed import's is. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('staging left by a killed import', () => {
  it('is removed by the next import, which says so, and a live process\'s is kept', async () => {
    const { root, homeA, homeB } = await scratch('stale-staging');
    const sample = await writeSampleBento(homeA, { models: 1, weightsBytes: 64 * 1024 });
    const archive = path.join(root, 'x.tar');
    await bentoportAt(homeA).exportBento(sample.bentoTag, archive);
    const stale = `bentoport-staging-${deadPid()}-0123456789ab`;
    const live = `bentoport-staging-${process.ppid}-ba9876543210`;
    for (const name of [stale, live]) {
      await mkdir(path.join(homeB, 'tmp', name, 'bentos'), { recursive: true });
      await writeFile(path.join(homeB, 'tmp', name, 'bentos', 'half-written'), 'x');
    }
    const importer = bentoportAt(homeB);
    await importer.importBento(archive);
    expect((await readdir(path.join(homeB, 'tmp'))).filter((name) => name.startsWith('bentoport-staging-'))).toEqual([live]);
    const notices = importer.events.filter((event) => event.type === 'notice').map((event) => (event.type === 'notice' ? event.message : ''));
    expect(notices).toContain(`[store] removed a stale leftover of an interrupted earlier run: ${path.join(homeB, 'tmp', stale)}`);
  });
});
