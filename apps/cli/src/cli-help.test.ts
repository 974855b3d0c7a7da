import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatExtensions } from '@bentoport/core';
import { makeScratchDir, removeScratchDirs } from '@bentoport/test-utils';
import { runCli } from './cli-harness.js';
import { writeFixturePlugin } from './plugin-fixtures.js';

afterAll(removeScratchDirs);

interface PluginsJson {
  plugins: Array<{ kind: string; serves: string[] }>;
}

/** The format tokens `bentoport plugins --json` reports, as export's help must list them. */
async function installedFormats(env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const { plugins } = JSON.parse((await runCli(['plugins', '--json'], { env })).stdout) as PluginsJson;
  return [...new Set(plugins.filter((plugin) => plugin.kind === 'format').flatMap((plugin) => plugin.serves))];
}

/** The row of a format in the help's table: its token, then the extensions that pick it. */
function rowOf(help: string, format: string): string | undefined {
  return help.split('\n').find((line) => new RegExp(`^  ${format} +`).test(line));
}

describe('export --help lists the formats of the installed plugins', () => {
  it('every format the bundled plugins serve, each with the extensions that pick it', async () => {
    const formats = await installedFormats();
    // The first-party formats beside the CLI: a help that lists fewer was written by hand.
    expect(formats).toEqual(expect.arrayContaining(['bento', 'bentomodel', 'tar', 'gz', 'xz', 'bz2', 'zip']));
    for (const [group, kind] of [[[], 'bento'], [['models'], 'model']] as const) {
      const help = (await runCli([...group, 'export', '--help'])).stdout;
      for (const format of formats) {
        const extensions = formatExtensions(format, kind);
        expect(rowOf(help, format), `${group.join(' ')} export --help: ${format}`).toBe(
          `  ${format.padEnd(Math.max(...formats.map((token) => token.length)))}  ${extensions.length > 0 ? extensions.join(', ') : '(--format only)'}`,
        );
      }
    }
    const help = (await runCli(['export', '--help'])).stdout;
    for (const extension of ['.bento', '.tar', '.tar.gz', '.tgz', '.gz', '.tar.xz', '.xz', '.tar.bz2', '.bz2', '.zip']) expect(help).toContain(extension);
    expect((await runCli(['import', '--help'])).stdout).toContain(`one of ${formats.join(', ')} (default: detected)`);
  });

  it("a third-party format named in BENTOPORT_PLUGINS is listed, chosen by --format only", async () => {
    const directory = path.join(await makeScratchDir('cli-help-format'), 'bentoport-format-zstd');
    await writeFixturePlugin(directory, { name: 'bentoport-format-zstd', kind: 'format', serves: ['zstd'] });
    const help = await runCli(['export', '--help'], { env: { BENTOPORT_PLUGINS: directory } });
    expect(help.code).toBe(0);
    expect(rowOf(help.stdout, 'zstd')).toMatch(/^ {2}zstd +\(--format only\)$/);
  });

  it('still prints when plugin discovery fails, pointing at bentoport plugins', async () => {
    const help = await runCli(['export', '--help'], { env: { BENTOPORT_PLUGINS: '/nonexistent/plugin-directory' } });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("The installed formats: 'bentoport plugins'.");
  });
});
