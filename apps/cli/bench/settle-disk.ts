import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Writes the page cache's dirty pages to disk before a timed run, outside the timing. Without it
 * each run paid for the gigabytes the run before it left behind (the kernel throttles writers
 * once dirty pages pile up), so a row's time depended on which row ran before it.
 */
export async function settleDisk(): Promise<void> {
  await run('sync');
}
