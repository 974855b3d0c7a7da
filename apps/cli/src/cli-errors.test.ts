import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeScratchDir, removeScratchDirs, writeSampleBento } from '@bentoport/test-utils';
import { runCli } from './cli-harness.js';

let home: string;
beforeAll(async () => {
  home = await makeScratchDir('cli-errors');
  await writeSampleBento(home, { models: 0 });
});
afterAll(removeScratchDirs);

describe('errors', () => {
  it('an unknown tag gives exactly one BentoML-style line and exit 1', async () => {
    const result = await runCli(['--home', home, 'export', 'nope:v1', '/tmp/never-written.tar']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderrLines).toEqual([
      `Error: [bentos] \`export\` failed: Bento 'nope:v1' is not found in BentoML store ${home}/bentos, you may need to run \`bentoml pull\` first`,
    ]);
  });

  it('model commands say [models]', async () => {
    const result = await runCli(['--home', home, 'models', 'get', 'nope']);
    expect(result.code).toBe(1);
    expect(result.stderrLines).toHaveLength(1);
    expect(result.stderrLines[0]).toMatch(/^Error: \[models\] `get` failed: /);
  });

  it('an invalid tag is one line too, no stack trace', async () => {
    const result = await runCli(['--home', home, 'get', 'a:b:c']);
    expect(result.code).toBe(1);
    expect(result.stderrLines).toEqual(['Error: [bentos] `get` failed: Invalid Tag a:b:c']);
  });

  it('BENTOPORT_DEBUG=1 adds the stack', async () => {
    const result = await runCli(['--home', home, 'get', 'a:b:c'], { env: { BENTOPORT_DEBUG: '1' } });
    expect(result.code).toBe(1);
    expect(result.stderrLines.length).toBeGreaterThan(1);
    expect(result.stderr).toContain('    at ');
  });

  it.each([
    [['frobnicate'], /^Error: unknown command 'frobnicate'\. See 'bentoport --help'\.$/],
    [['export'], /^Error: 'export' needs an argument\. See 'bentoport export --help'\.$/],
    [['export', 'x', '--bogus'], /^Error: Unknown option '--bogus'\. See 'bentoport export --help'\.$/],
    [['models', 'list', 'a', 'b'], /^Error: 'models list' got an unexpected argument 'b'\. See 'bentoport models list --help'\.$/],
    [['models'], /^Error: missing models command/],
    [[], /^Error: missing command/],
    [['export', 'x', 'y', '--compression', 'fast'], /^Error: invalid --compression 'fast'/],
    [['list', '-o', 'csv'], /^Error: invalid --output 'csv'/],
  ])('usage error %j exits 2 with one line', async (args, pattern) => {
    const result = await runCli(['--home', home, ...args]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderrLines).toHaveLength(1);
    expect(result.stderrLines[0]).toMatch(pattern);
  });

  it('never prints a password', async () => {
    // A closed loopback port as the S3 endpoint: the request fails without leaving the machine.
    const loopbackS3 = { env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_REGION: 'us-east-1' } };
    const result = await runCli(
      ['--home', home, 'export', 'sample_service', 'bucket/key.tar', '--protocol', 's3', '--user', 'me', '--passwd', 'S3CR3T-VALUE'],
      loopbackS3,
    );
    expect(result.code).toBe(1);
    expect(result.stderrLines).toHaveLength(1);
    expect(result.stderr).not.toContain('S3CR3T-VALUE');
    const url = await runCli(['--home', home, 'import', 's3://me:S3CR3T-VALUE@bucket/key.tar'], loopbackS3);
    expect(url.code).toBe(1);
    expect(url.stderr).not.toContain('S3CR3T-VALUE');
  });

  it('hides a one-letter password without garbling the message', async () => {
    const loopbackS3 = { env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_REGION: 'us-east-1' } };
    const result = await runCli(['--home', home, 'export', 'sample_service', 'bucket/key.tar', '--protocol', 's3', '--user', 'me', '--passwd', 'p'], loopbackS3);
    expect(result.code).toBe(1);
    expect(result.stderrLines).toHaveLength(1);
    // The message keeps its words whole: 'export' and 'transport-s3' must not lose their p's.
    expect(result.stderr).toContain('`export` failed');
    expect(result.stderr).toContain('[transport-s3]');
    expect(result.stderr).not.toContain('***ort');
  });

  it('refuses to read an archive from a terminal-less empty stdin gracefully', async () => {
    const result = await runCli(['--home', home, 'import', '-'], { input: '' });
    expect(result.code).toBe(1);
    expect(result.stderrLines).toHaveLength(1);
    expect(result.stderrLines[0]).toMatch(/^Error: \[bentos\] `import` failed: /);
  });
});

describe('help and version', () => {
  it('prints --version and help texts', async () => {
    expect((await runCli(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+/);
    const main = await runCli(['--help']);
    expect(main.code).toBe(0);
    expect(main.stdout).toContain('Usage: bentoport');
    for (const command of ['list', 'get', 'delete', 'export', 'import']) {
      const help = await runCli([command, '-h']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: bentoport ${command}`);
      const models = await runCli(['models', command, '--help']);
      expect(models.stdout).toContain(`Usage: bentoport models ${command}`);
    }
  });
});
