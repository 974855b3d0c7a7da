import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { makeScratchDir, removeScratchDirs } from '@bentoport/test-utils';
import { runCli } from './cli-harness.js';

afterAll(() => removeScratchDirs());

/** A port that was listening a moment ago and is closed now: a connection to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('retries are told as they happen', () => {
  it('prints one line per retry of an unreachable HTTP host, before the error', async () => {
    const home = await makeScratchDir('cli-retry');
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/x.bento`;
    const run = await runCli(['--home', home, 'import', url]);
    expect(run.code).toBe(1);
    const retries = run.stderrLines.filter((line) => line.startsWith('retrying'));
    expect(retries).toHaveLength(3);
    retries.forEach((line, index) => expect(line).toMatch(new RegExp(`^retrying HEAD ${url.replace(/\./g, '\\.')} \\(attempt ${index + 2}/4, next in \\d+(\\.\\d)? s\\): ECONNREFUSED$`)));
    expect(run.stderrLines.at(-1)).toMatch(/^Error: \[bentos\] `import` failed: .*ECONNREFUSED/);
  });

  it('gives them to --progress json as warning events with retry details', async () => {
    const home = await makeScratchDir('cli-retry-json');
    const port = await closedPort();
    const run = await runCli(['--home', home, '--progress', 'json', 'import', `http://127.0.0.1:${port}/x.bento`]);
    const events = run.stderrLines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { type: string; operation: string; retry?: Record<string, unknown> });
    const retries = events.filter((event) => event.retry !== undefined);
    expect(retries.map((event) => event.retry?.attempt)).toEqual([2, 3, 4]);
    expect(retries[0]).toMatchObject({ type: 'warning', operation: 'import', retry: { attempts: 4, reason: 'ECONNREFUSED', target: `HEAD http://127.0.0.1:${port}/x.bento` } });
  });

  it('says a proxy it cannot reach is the proxy', async () => {
    const home = await makeScratchDir('cli-proxy');
    const port = await closedPort();
    const run = await runCli(['--home', home, 'import', 'http://origin.invalid/x.bento'], { env: { HTTP_PROXY: `http://127.0.0.1:${port}`, NO_PROXY: '' } });
    expect(run.code).toBe(1);
    expect(run.stderrLines.at(-1)).toContain(`proxy http://127.0.0.1:${port} (from the *_PROXY environment variables) could not be reached`);
  });
});
