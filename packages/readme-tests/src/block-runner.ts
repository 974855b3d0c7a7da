/**
 * Runs one README block as a reader would: shell blocks with `bash -euo pipefail`, TypeScript
 * blocks as a module of the workspace (so `@bentoport/*` resolve to the built packages), each in a
 * scratch directory with its own `$HOME`, XDG directories and `$BENTOML_HOME` holding the sample
 * store, and `bentoport` on PATH as the built CLI.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import ts from 'typescript';
import { makeScratchDir } from '@bentoport/test-utils';
import { REPOSITORY_ROOT, SHELL_LANGUAGES, type FencedBlock } from './markdown-blocks.js';
import { SCRIPT_DIRECTORY, blockModuleName } from './block-types.js';
import { S3_CREDENTIALS, bentoCloudDouble, createBuckets, loginUserDirectory, yataiYaml, type ReadmeServers, type ServerName } from './readme-servers.js';
import { writeSampleStore } from './sample-store.js';

export const CLI_PATH = path.join(REPOSITORY_ROOT, 'apps', 'cli', 'dist', 'cli.js');

export interface BlockResult {
  code: number | null;
  output: string;
}

/** The scratch world of one block. */
export interface BlockScratch {
  root: string;
  /** The block's working directory. */
  work: string;
  home: string;
  env: NodeJS.ProcessEnv;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<BlockResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** A scratch directory with a home, a sample store and `bentoport` on PATH. */
export async function createScratch(name: string): Promise<BlockScratch> {
  const root = await makeScratchDir(`readme-${name}`);
  const home = path.join(root, 'home');
  const work = path.join(root, 'work');
  const bin = path.join(root, 'bin');
  for (const directory of [home, work, bin, path.join(home, '.config'), path.join(home, '.local', 'state'), path.join(home, '.cache'), path.join(home, '.local', 'share')]) {
    await mkdir(directory, { recursive: true });
  }
  await writeFile(path.join(bin, 'bentoport'), `#!/bin/sh\nexec "${process.execPath}" "${CLI_PATH}" "$@"\n`);
  chmodSync(path.join(bin, 'bentoport'), 0o755);
  const bentomlHome = path.join(home, 'bentoml');
  await writeSampleStore(bentomlHome);
  const env: NodeJS.ProcessEnv = {
    PATH: `${bin}:${path.dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_STATE_HOME: path.join(home, '.local', 'state'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    BENTOML_HOME: bentomlHome,
    TMPDIR: process.env.TMPDIR ?? '/tmp',
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    ...S3_CREDENTIALS,
  };
  return { root, work, home, env };
}

/** Run the CLI in a block's world, for preparing it; its output. */
async function cli(scratch: BlockScratch, args: string[]): Promise<string> {
  const result = await run(process.execPath, [CLI_PATH, ...args], scratch.work, scratch.env, 120_000);
  if (result.code !== 0) throw new Error(`preparing: bentoport ${args.join(' ')} failed: ${result.output}`);
  return result.output;
}

/**
 * The archives a block downloads from the HTTP server come from another machine: each is exported
 * there first from the sample store, under the name the URL gives (`<name>-<version>.<ext>`, or
 * `<name>.<ext>` for its latest version), and that bento version then leaves the local store (its
 * models stay), so the block imports what it does not have, as a reader would.
 */
async function placeDownloads(code: string, scratch: BlockScratch, servers: ReadmeServers): Promise<void> {
  const directory = path.join(servers.http.davRoot, 'readme');
  await mkdir(path.join(servers.http.davRoot, 'private', 'readme'), { recursive: true });
  await mkdir(directory, { recursive: true });
  const port = servers.http.tlsPort;
  for (const match of code.matchAll(new RegExp(`https://127\\.0\\.0\\.1:${port}/readme/([a-z0-9_]+?)(?:-([a-z0-9]+))?\\.(bento|tar\\.gz)\\b`, 'g'))) {
    const [, name, version, extension] = match;
    const file = path.join(directory, match[0].slice(match[0].lastIndexOf('/') + 1));
    const exported = JSON.parse(await cli(scratch, ['export', `${name}:${version ?? 'latest'}`, file, '--format', extension === 'bento' ? 'bento' : 'gz', '--json'])) as { tag: string };
    await cli(scratch, ['delete', exported.tag, '-y', '-q']);
  }
}

/** Give the block's world what each server it needs asks of the client side. */
export async function prepareServers(needs: Set<ServerName>, code: string, scratch: BlockScratch, servers: ReadmeServers): Promise<void> {
  const certificates: string[] = [];
  if (needs.has('s3')) {
    await createBuckets(servers.motoEndpoint);
    // A block that names no endpoint is written for AWS: this machine's AWS configuration is moto.
    if (!/AWS_ENDPOINT_URL|endpoint_url/.test(code)) scratch.env.AWS_ENDPOINT_URL = servers.motoEndpoint;
  }
  if (needs.has('http')) {
    certificates.push(servers.http.certificate);
    await placeDownloads(code, scratch, servers);
    await writeFile(path.join(scratch.work, 'company-ca.pem'), servers.http.certificate);
  }
  if (needs.has('ftp')) {
    loginUserDirectory(servers.ftp);
    certificates.push(servers.ftp.certificate);
    await writeFile(path.join(scratch.home, '.netrc'), `machine 127.0.0.1 login ${servers.ftp.user} password ${servers.ftp.password}\n`, { mode: 0o600 });
  }
  if (needs.has('sftp')) {
    loginUserDirectory(servers.sftp);
    await mkdir(path.join(scratch.home, '.ssh'), { recursive: true, mode: 0o700 });
    await copyFile(servers.sftp.clientKey, path.join(scratch.home, '.ssh', 'id_ed25519'));
    chmodSync(path.join(scratch.home, '.ssh', 'id_ed25519'), 0o600);
    await copyFile(servers.sftp.knownHosts, path.join(scratch.home, '.ssh', 'known_hosts'));
    // The README's `sftp://bentos/…`: a Host alias of ~/.ssh/config, as a user has one.
    const alias = `Host bentos\n  HostName 127.0.0.1\n  Port ${servers.sftp.port}\n  User ${servers.sftp.user}\n  IdentityFile ~/.ssh/id_ed25519\n`;
    await writeFile(path.join(scratch.home, '.ssh', 'config'), alias, { mode: 0o600 });
  }
  if (needs.has('bentocloud')) {
    const double = await bentoCloudDouble(servers);
    await writeFile(path.join(scratch.env.BENTOML_HOME!, '.yatai.yaml'), yataiYaml(double));
  }
  if (certificates.length > 0) {
    const file = path.join(scratch.root, 'test-servers-ca.pem');
    await writeFile(file, certificates.join('\n'));
    scratch.env.NODE_EXTRA_CA_CERTS = file;
  }
}

/** Run a block (already substituted) in its world. */
export async function runBlock(block: FencedBlock, code: string, scratch: BlockScratch): Promise<BlockResult> {
  const name = blockModuleName(block);
  if (SHELL_LANGUAGES.has(block.language)) {
    const script = path.join(scratch.root, `${name}.sh`);
    await writeFile(script, `${code}\n`);
    return run('bash', ['-euo', 'pipefail', script], scratch.work, scratch.env, 150_000);
  }
  await mkdir(SCRIPT_DIRECTORY, { recursive: true });
  const module = path.join(SCRIPT_DIRECTORY, `${name}.mjs`);
  const output = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false }, fileName: `${name}.ts` });
  await writeFile(module, output.outputText);
  return run(process.execPath, [module], scratch.work, scratch.env, 150_000);
}

/** Why no block can run: the CLI is not built. Under CI=true that fails instead. */
export function cliMissing(): string | undefined {
  if (existsSync(CLI_PATH)) return undefined;
  const reason = `${CLI_PATH} is missing: build first (pnpm -s turbo run build)`;
  if (process.env.CI === 'true') throw new Error(reason);
  return reason;
}
