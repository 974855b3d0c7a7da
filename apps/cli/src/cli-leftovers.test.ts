import { spawnSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { formatOwner, hostTag } from '@bentoport/plugin-kit';
import { makeScratchDir, removeScratchDirs, writeSampleBento } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-harness.js';

const TAG = 'leftover_service:v1';
let home: string;

/**
 * What an export killed with SIGKILL leaves beside its target: a temporary file (or, for a
 * folder export, a tree) whose writer is gone.
 */
async function killedExportLeftover(directory: string, target: string, kind: 'file' | 'tree' = 'file'): Promise<string> {
  const deadPid = spawnSync(process.execPath, ['-e', '']).pid as number;
  const name = `.${target}.bentoport-${formatOwner({ host: hostTag(), pid: deadPid })}-0123456789ab.tmp`;
  if (kind === 'file') {
    await writeFile(path.join(directory, name), 'half an archive');
  } else {
    await mkdir(path.join(directory, name, 'src'), { recursive: true });
    await writeFile(path.join(directory, name, 'src', 'service.py'), 'half a tree');
  }
  return name;
}

beforeAll(async () => {
  home = await makeScratchDir('cli-leftovers');
  await writeSampleBento(home, { name: 'leftover_service', version: 'v1', models: 0 });
});
afterAll(removeScratchDirs);

describe('an export after a killed one', () => {
  it('removes the killed export’s temporary file and says so on stderr', async () => {
    const scratch = await makeScratchDir('cli-leftovers-out');
    const leftover = await killedExportLeftover(scratch, 'svc.tar');
    const result = await runCli(['--home', home, 'export', TAG, path.join(scratch, 'svc.tar')]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`[transport-fs] removed a stale leftover of an interrupted earlier run: ${path.join(scratch, leftover)}\n`);
    expect(await readdir(scratch)).toEqual(['svc.tar']);
  });

  it('removes a killed folder export’s temporary tree and says so', async () => {
    const scratch = await makeScratchDir('cli-leftovers-folder');
    const leftover = await killedExportLeftover(scratch, 'out', 'tree');
    const result = await runCli(['--home', home, 'export', TAG, path.join(scratch, 'out'), '--format', 'folder']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`[export] removed a stale leftover of an interrupted earlier run: ${path.join(scratch, leftover)}\n`);
    expect(await readdir(scratch)).toEqual(['out']);
  });

  it('does it silently with --quiet', async () => {
    const scratch = await makeScratchDir('cli-leftovers-quiet');
    await killedExportLeftover(scratch, 'svc.tar');
    const result = await runCli(['--home', home, '-q', 'export', TAG, path.join(scratch, 'svc.tar')]);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(await readdir(scratch)).toEqual(['svc.tar']);
  });
});
