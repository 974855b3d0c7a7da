import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostTag, LEFTOVER_STALE_AFTER_MS } from './leftover-owner.js';
import { bentoportStateDirectory, uploadJournal } from './upload-journal.js';

function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid as number;
}

describe('uploadJournal', () => {
  let directory = '';
  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'bentoport-journal-'));
  });
  afterAll(() => rm(directory, { recursive: true, force: true }));

  /** A record as another process would have left it: written by this one, then given `owner`. */
  async function leftBehind(scope: string, owner: { host: string; pid: number }, upload: string): Promise<void> {
    await uploadJournal({ directory }).record({ component: 'transport-x', scope, upload });
    for (const name of await readdir(directory)) {
      const text = await readFile(path.join(directory, name), 'utf8');
      if (text.includes(`"upload":"${upload}"`)) await writeFile(path.join(directory, name), text.replace(/"owner":\{[^}]*\}/, `"owner":${JSON.stringify(owner)}`));
    }
  }

  it('writes a record down and removes it again', async () => {
    const journal = uploadJournal({ directory });
    const recorded = await journal.record({ component: 'transport-x', scope: 'one', upload: 'u-1', details: { key: 'k' } });
    const names = await readdir(directory);
    expect(names).toHaveLength(1);
    expect(JSON.parse(await readFile(path.join(directory, names[0] as string), 'utf8'))).toMatchObject({ upload: 'u-1', scope: 'one', owner: { pid: process.pid } });
    await recorded.update('u-1?offset=2');
    expect(JSON.parse(await readFile(path.join(directory, names[0] as string), 'utf8'))).toMatchObject({ upload: 'u-1?offset=2' });
    expect(await journal.stale('transport-x', 'one')).toEqual([]);
    await recorded.remove();
    await recorded.update('u-1?offset=3');
    expect(await readdir(directory)).toEqual([]);
  });

  it('finds the records of exited owners in its scope, not live, foreign or other-scope ones', async () => {
    const journal = uploadJournal({ directory });
    await leftBehind('two', { host: hostTag(), pid: deadPid() }, 'dead');
    await leftBehind('two', { host: hostTag(), pid: process.ppid }, 'live');
    await leftBehind('two', { host: hostTag() === 'ffffffff' ? 'fffffffe' : 'ffffffff', pid: deadPid() }, 'foreign');
    await leftBehind('three', { host: hostTag(), pid: deadPid() }, 'elsewhere');
    const stale = await journal.stale('transport-x', 'two');
    expect(stale.map((record) => record.upload)).toEqual(['dead']);
    await stale[0]?.remove();
    expect(await journal.stale('transport-x', 'two')).toEqual([]);
  });

  it('merges details on update, and lists live records beside stale ones', async () => {
    const journal = uploadJournal({ directory });
    const recorded = await journal.record({ component: 'transport-x', scope: 'six', upload: '', details: { key: 'k', startedMs: '1' } });
    await recorded.update('', { attempts: '2' });
    await recorded.update('u-6', { endedMs: '3' });
    await leftBehind('six', { host: hostTag(), pid: deadPid() }, 'dead-6');
    const listed = await journal.list('transport-x', 'six');
    expect(listed.map(({ upload, stale, details }) => ({ upload, stale, details })).sort((a, b) => a.upload.localeCompare(b.upload))).toEqual([
      { upload: 'dead-6', stale: true, details: {} },
      { upload: 'u-6', stale: false, details: { key: 'k', startedMs: '1', attempts: '2', endedMs: '3' } },
    ]);
    expect((await journal.stale('transport-x', 'six')).map((record) => record.upload)).toEqual(['dead-6']);
    await recorded.remove();
    for (const record of await journal.list('transport-x', 'six')) await record.remove();
  });

  it('counts a day-old record of another host as stale', async () => {
    const journal = uploadJournal({ directory });
    await leftBehind('four', { host: hostTag() === 'ffffffff' ? 'fffffffe' : 'ffffffff', pid: 1 }, 'old');
    for (const name of await readdir(directory)) {
      if ((await readFile(path.join(directory, name), 'utf8')).includes('"upload":"old"')) {
        const past = new Date(Date.now() - LEFTOVER_STALE_AFTER_MS - 60_000);
        await utimes(path.join(directory, name), past, past);
      }
    }
    expect((await journal.stale('transport-x', 'four')).map((record) => record.upload)).toEqual(['old']);
  });

  it('goes on without a record when the directory cannot be written', async () => {
    const file = path.join(directory, 'a-file');
    await writeFile(file, '');
    const journal = uploadJournal({ directory: path.join(file, 'below') });
    const recorded = await journal.record({ component: 'transport-x', scope: 'five', upload: 'u' });
    await recorded.update('v');
    await recorded.remove();
    expect(await journal.stale('transport-x', 'five')).toEqual([]);
  });

  it('keeps its state under BENTOPORT_STATE_DIR, else XDG_STATE_HOME, else ~/.local/state', () => {
    expect(bentoportStateDirectory({ BENTOPORT_STATE_DIR: '/s' })).toBe('/s');
    expect(bentoportStateDirectory({ XDG_STATE_HOME: '/x' })).toBe('/x/bentoport');
    expect(bentoportStateDirectory({ XDG_STATE_HOME: 'relative', HOME: '/h' })).toBe('/h/.local/state/bentoport');
  });
});
