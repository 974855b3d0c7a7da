import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatOwner, hostTag, LEFTOVER_STALE_AFTER_MS } from './leftover-owner.js';
import { parseTemporarySiblingName, staleTemporarySiblings, temporarySiblingName, temporarySiblingPath } from './temporary-name.js';

const TEMPORARY = /^\.(.+)\.bentoport-[0-9a-f]{8}-[0-9a-z]+-[0-9a-f]{12}\.tmp$/;

/** The pid of a process that has exited: a child that ran and was waited for. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid as number;
}

describe('temporary sibling names', () => {
  it('hides the name, marks it as ours and makes it unique', () => {
    const name = temporarySiblingName('svc-v1.bento');
    expect(TEMPORARY.exec(name)?.[1]).toBe('svc-v1.bento');
    expect(temporarySiblingName('svc-v1.bento')).not.toBe(name);
  });

  it('stays within 255 bytes for the longest names', () => {
    expect(temporarySiblingName('x'.repeat(255)).length).toBeLessThanOrEqual(255);
  });

  it('puts a server path’s temporary name in the same directory', () => {
    expect(temporarySiblingPath('/data/out/svc.bento')).toMatch(/^\/data\/out\/\.svc\.bento\.bentoport-[0-9a-f]{8}-[0-9a-z]+-[0-9a-f]{12}\.tmp$/);
    expect(temporarySiblingPath('/svc.bento')).toMatch(/^\/\.svc\.bento\.bentoport-[0-9a-f]{8}-[0-9a-z]+-[0-9a-f]{12}\.tmp$/);
    expect(temporarySiblingPath('relative/svc.bento')).toMatch(/^relative\/\.svc\.bento\.bentoport-/);
  });

  it('names its owner: this host and this process', () => {
    expect(parseTemporarySiblingName(temporarySiblingName('svc.bento'), 'svc.bento')).toEqual({ owner: { host: hostTag(), pid: process.pid } });
    expect(parseTemporarySiblingName(temporarySiblingName('x'.repeat(255)), 'x'.repeat(255))?.owner?.pid).toBe(process.pid);
  });

  it('reads names from before owners were written as ownerless, and other names as not ours', () => {
    expect(parseTemporarySiblingName('.svc.bento.bentoport-3f9a0c12d4e5.tmp', 'svc.bento')).toEqual({ owner: undefined });
    expect(parseTemporarySiblingName('.svc.bento.sha256.bentoport-3f9a0c12d4e5.tmp', 'svc.bento')).toBeUndefined();
    expect(parseTemporarySiblingName('.other.bento.bentoport-3f9a0c12d4e5.tmp', 'svc.bento')).toBeUndefined();
    expect(parseTemporarySiblingName('svc.bento', 'svc.bento')).toBeUndefined();
    expect(parseTemporarySiblingName('.svc.bento.bentoport-3f9a0c12d4e5.tmp.keep', 'svc.bento')).toBeUndefined();
  });
});

describe('staleTemporarySiblings', () => {
  const now = Date.now();
  const named = (owner: string) => `.svc.bento.bentoport-${owner}-0123456789ab.tmp`;

  it('picks the temporary files of exited writers on this host, of this target only', async () => {
    const dead = named(formatOwner({ host: hostTag(), pid: deadPid() }));
    const live = named(formatOwner({ host: hostTag(), pid: process.ppid }));
    const mine = temporarySiblingName('svc.bento');
    const otherTarget = `.other.bento.bentoport-${formatOwner({ host: hostTag(), pid: deadPid() })}-0123456789ab.tmp`;
    const entries = [dead, live, mine, otherTarget, 'svc.bento'].map((name) => ({ name, modifiedMs: now }));
    expect(await staleTemporarySiblings(entries, 'svc.bento')).toEqual([dead]);
  });

  it('leaves another host’s and an ownerless name alone until they are a day old', async () => {
    const foreign = named(formatOwner({ host: hostTag() === '00000000' ? '00000001' : '00000000', pid: deadPid() }));
    const ownerless = '.svc.bento.bentoport-3f9a0c12d4e5.tmp';
    const fresh = [foreign, ownerless].map((name) => ({ name, modifiedMs: now }));
    expect(await staleTemporarySiblings(fresh, 'svc.bento')).toEqual([]);
    const old = [foreign, ownerless].map((name) => ({ name, modifiedMs: now - LEFTOVER_STALE_AFTER_MS - 1000 }));
    expect(await staleTemporarySiblings(old, 'svc.bento')).toEqual([foreign, ownerless]);
  });

  it('asks for the age only of the candidates that need it', async () => {
    const asked: string[] = [];
    const ownerless = '.svc.bento.bentoport-3f9a0c12d4e5.tmp';
    const modifiedOf = async (name: string) => {
      asked.push(name);
      return now - LEFTOVER_STALE_AFTER_MS - 1000;
    };
    const dead = named(formatOwner({ host: hostTag(), pid: deadPid() }));
    expect(await staleTemporarySiblings([{ name: dead }, { name: ownerless }, { name: 'svc.bento' }], 'svc.bento', modifiedOf)).toEqual([dead, ownerless]);
    expect(asked).toEqual([ownerless]);
  });
});
