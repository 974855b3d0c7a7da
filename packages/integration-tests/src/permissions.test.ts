import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { python } from '@bentoport/test-utils';
import { describe, expect, it } from 'vitest';
import { bentoportAt } from './harness.js';

const WORKER = fileURLToPath(new URL('../fixtures/import-worker.mjs', import.meta.url));
const NOBODY = 65534;

/** A tar whose members carry modes with setuid/sticky bits and a foreign owner. */
async function writeModeArchive(archive: string): Promise<void> {
  await python(
    [
      'import io, sys, tarfile',
      'def add(t, name, mode, data=b"#!/bin/sh\\n", kind=tarfile.REGTYPE):',
      '  i = tarfile.TarInfo(name); i.mode = mode; i.uid = 1234; i.gid = 1234; i.type = kind',
      '  i.size = len(data) if kind == tarfile.REGTYPE else 0',
      '  t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)',
      "with tarfile.open(sys.argv[1], 'w') as t:",
      `  add(t, 'bento.yaml', 0o644, b"service: s:S\\nname: modes\\nversion: v1\\ncreation_time: '2025-01-01T00:00:00+00:00'\\n")`,
      "  add(t, 'env', 0o1750, kind=tarfile.DIRTYPE)",
      "  add(t, 'env/run.sh', 0o4755)",
      "  add(t, 'env/secret', 0o600)",
      "  add(t, 'env/group.sh', 0o2750)",
    ].join('\n'),
    [archive],
  );
}

async function expectModes(bentoPath: string, uid: number): Promise<void> {
  const mode = async (relative: string) => (await stat(path.join(bentoPath, relative))).mode & 0o7777;
  expect(await mode('env/run.sh')).toBe(0o755);
  expect(await mode('env/secret')).toBe(0o600);
  expect(await mode('env/group.sh')).toBe(0o750);
  expect(await mode('env')).toBe(0o750);
  expect((await stat(path.join(bentoPath, 'env/run.sh'))).uid).toBe(uid);
}

describe('file modes and owners', () => {
  it('keeps permission bits, strips setuid/setgid/sticky, never chowns (current user)', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'bentoport-modes-'));
    const archive = path.join(root, 'modes.tar');
    await writeModeArchive(archive);
    const imported = await bentoportAt(path.join(root, 'home')).importBento(archive);
    await expectModes(imported.item.path, process.getuid?.() ?? 0);
  });

  it.runIf(process.getuid?.() === 0)('does the same for an unprivileged user (CI runs as root)', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'bentoport-modes-nobody-'));
    await chmod(root, 0o755);
    const home = path.join(root, 'home');
    await mkdir(home);
    await chown(home, NOBODY, NOBODY);
    const archive = path.join(root, 'modes.tar');
    await writeModeArchive(archive);
    await chmod(archive, 0o644);
    const output = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [WORKER, home, archive, 'plain'], { uid: NOBODY, gid: NOBODY, timeout: 60_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
      );
    });
    expect(JSON.parse(output.trim())).toEqual({ ok: true, tag: 'modes:v1' });
    await expectModes(path.join(home, 'bentos', 'modes', 'v1'), NOBODY);
  });
});
