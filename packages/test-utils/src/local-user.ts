import { execFileSync } from 'node:child_process';

/** Whether tests that need root (local users for the daemons) can run, or why not. */
export function rootRequirement(daemon: string): string | undefined {
  if (process.getuid?.() === 0) return undefined;
  return `the ${daemon} tests create a local user and need root (run as root, as CI does)`;
}

/**
 * Make sure a local login user exists with this password and home. Idempotent, so that two test
 * runs at once (or a run after a crash) agree: the password and the home are fixed test values,
 * and each run works in a scratch directory of its own.
 */
export function ensureLocalUser(name: string, password: string, home: string): void {
  const exists = (() => {
    try {
      execFileSync('id', ['-u', name], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  if (!exists) {
    try {
      execFileSync('useradd', ['-M', '-d', home, '-s', '/bin/sh', name], { stdio: 'pipe' });
    } catch (error) {
      // Another run created it meanwhile.
      if (!/already exists/.test(String((error as { stderr?: Buffer }).stderr ?? ''))) throw error;
    }
  }
  else execFileSync('usermod', ['-d', home, name], { stdio: 'ignore' });
  execFileSync('chpasswd', [], { input: `${name}:${password}\n`, stdio: ['pipe', 'ignore', 'pipe'] });
}
