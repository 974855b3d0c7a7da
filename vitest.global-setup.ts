import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/**
 * Every test file writes its scratch stores, archives and server directories under `tmpdir()`;
 * many leave them behind (a failed test, a directory made in a `beforeEach`). Pointing TMPDIR at
 * one directory for the whole run, and removing it at the end, keeps repeated runs from filling
 * the machine's temp directory. The worker processes inherit TMPDIR, and `os.tmpdir()` reads it
 * on every call. 0755: the test daemons' own users (vsftpd, sshd) must pass through it.
 */
export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const previousState = process.env.BENTOPORT_STATE_DIR;
  const directory = mkdtempSync(path.join(tmpdir(), 'bentoport-test-run-'));
  chmodSync(directory, 0o755);
  process.env.TMPDIR = directory;
  // The records of uploads in flight (a failed resume keeps its own) stay in the run's directory,
  // not in the user's ~/.local/state.
  process.env.BENTOPORT_STATE_DIR = path.join(directory, 'state');
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    if (previousState === undefined) delete process.env.BENTOPORT_STATE_DIR;
    else process.env.BENTOPORT_STATE_DIR = previousState;
    rmSync(directory, { recursive: true, force: true });
  };
}
