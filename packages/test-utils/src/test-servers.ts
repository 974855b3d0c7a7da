import { accessSync, constants, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

/**
 * `BENTOPORT_TEST_SERVERS=none` makes every test server and reference client (vsftpd, sshd, nginx,
 * tinyproxy, docker-registry, skopeo, moto, the aws CLI) count as not installed, so a machine that
 * has them can still run the path a machine without them takes: every such suite skips, naming the
 * `apt-get install` that enables it. `.ci/run` runs the README's test command this way too, so that
 * path cannot rot.
 */
export function testServersSwitchedOff(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.BENTOPORT_TEST_SERVERS === 'none';
}

/** Whether `file` is a regular file this process may execute (not a device bound over it: see .ci/without-test-servers). */
function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The first of `candidates` (absolute paths) that is an executable file, or undefined when none is
 * or test servers are switched off.
 */
export function installedServer(candidates: readonly string[]): string | undefined {
  if (testServersSwitchedOff()) return undefined;
  return candidates.find(isExecutableFile);
}

/** Whether `command args` runs and exits 0 (a probe such as `aws --version`); false when test servers are switched off. */
export function commandSucceeds(command: string, args: readonly string[]): boolean {
  if (testServersSwitchedOff()) return false;
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}
