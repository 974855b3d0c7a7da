import { spawnSync } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeScratchDir, removeScratchDirs, writeSampleBento, type SampleBento } from '@bentoport/test-utils';
import { COMMANDS, commandOptions } from './command-line.js';
import { CLI_PATH, runCli } from './cli-harness.js';

/*
 * The generated scripts run in the real shells: each test sources `bentoport completion SHELL`,
 * asks it to complete a command line, and reads what the shell would offer. `bentoport` on their
 * PATH is the built binary.
 */

let scratch: string;
let home: string;
let sample: SampleBento;
/** A directory with `bentoport` (the built CLI), put first on the shells' PATH. */
let binDirectory: string;
/** Where the shells run: holds `archive.tar` and `archives/` for path completion. */
let workDirectory: string;
const scripts: Record<string, string> = {};

beforeAll(async () => {
  scratch = await makeScratchDir('cli-completion');
  home = path.join(scratch, 'home');
  sample = await writeSampleBento(home, { models: 2, sourceFiles: 2, weightsBytes: 1024 });
  binDirectory = path.join(scratch, 'bin');
  await mkdir(binDirectory);
  await writeFile(path.join(binDirectory, 'bentoport'), `#!/bin/sh\nexec '${process.execPath}' '${CLI_PATH}' "$@"\n`);
  await chmod(path.join(binDirectory, 'bentoport'), 0o755);
  workDirectory = path.join(scratch, 'work');
  await mkdir(path.join(workDirectory, 'archives'), { recursive: true });
  await writeFile(path.join(workDirectory, 'archive.tar'), '');
  for (const shell of ['bash', 'zsh', 'fish']) {
    const result = await runCli(['completion', shell]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    scripts[shell] = path.join(scratch, `completion.${shell}`);
    await writeFile(scripts[shell], result.stdout);
  }
});
afterAll(removeScratchDirs);

/** The environment of the shells: bentoport on PATH, the sample store as BENTOML_HOME. */
function shellEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: `${binDirectory}:${process.env.PATH ?? ''}`, HOME: scratch, BENTOML_HOME: home, NO_COLOR: '1', ...extra };
}

function runShell(command: string, args: string[], env: NodeJS.ProcessEnv = shellEnvironment()): string[] {
  const result = spawnSync(command, args, { cwd: workDirectory, env, encoding: 'utf8', timeout: 30_000 });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout === '' ? [] : result.stdout.replace(/\n$/, '').split('\n');
}

function installed(shell: string): boolean {
  return spawnSync(shell, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Skip a shell's tests with the apt-get line that enables them; under CI=true a missing shell fails. */
function describeShell(shell: 'zsh' | 'fish', body: () => void): void {
  if (installed(shell)) {
    describe(`${shell} completion`, body);
    return;
  }
  if (process.env.CI === 'true') throw new Error(`CI=true and ${shell} is not installed (apt-get install -y ${shell})`);
  describe.skip(`${shell} completion (not installed: apt-get install -y ${shell})`, body);
}

/**
 * The words bash hands a completion function for `line` (the cursor at its end): split at blanks,
 * and each run of the word-break characters ':' and '=' a word of its own, as bash does with its
 * default COMP_WORDBREAKS.
 */
function bashWords(line: string): string[] {
  const words: string[] = [];
  for (const blankSeparated of line.split(/\s+/)) words.push(...blankSeparated.split(/([:=]+)/).filter((word) => word !== ''));
  if (/\s$/.test(line) || words.length === 0) words.push('');
  return words;
}

/** What bash's completion function of the generated script puts in COMPREPLY for `line`. */
function bashComplete(line: string, env?: NodeJS.ProcessEnv): string[] {
  const words = bashWords(line);
  const program = `source "$1"; COMP_LINE=$2; COMP_POINT=\${#COMP_LINE}; COMP_CWORD=$3; shift 3; COMP_WORDS=("$@"); _bentoport_completion; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const lines = runShell('bash', ['--norc', '--noprofile', '-c', program, 'bash', scripts.bash as string, line, String(words.length - 1), ...words], env);
  return lines.filter((candidate) => candidate !== '');
}

const sorted = (values: string[]) => [...values].sort();

describe('bash completion', () => {
  it('is registered for bentoport', () => {
    expect(runShell('bash', ['--norc', '--noprofile', '-c', 'source "$1"; complete -p bentoport', 'bash', scripts.bash as string])).toEqual(['complete -F _bentoport_completion bentoport']);
  });

  it('completes the commands, and the model commands', () => {
    expect(sorted(bashComplete('bentoport '))).toEqual(sorted([...Object.keys(COMMANDS), 'models']));
    expect(bashComplete('bentoport ex')).toEqual(['export']);
    expect(bashComplete('bentoport models de')).toEqual(['delete']);
  });

  it('completes the flags of export, from the table the parser uses', () => {
    expect(sorted(bashComplete('bentoport export --'))).toEqual(sorted(Object.keys(commandOptions('bentos', COMMANDS.export)).map((name) => `--${name}`)));
    expect(bashComplete('bentoport export --checks')).toEqual(['--checksum-file']);
    expect(bashComplete('bentoport export --compression ')).toEqual(['auto', 'max', 'store']);
    // bash replaces only the part after '=': the candidates are the values.
    expect(bashComplete('bentoport export --compression=s')).toEqual(['store']);
  });

  it('completes the tags of the local store', () => {
    expect(bashComplete('bentoport export ')).toEqual(['sample_service:latest', sample.bentoTag]);
    expect(bashComplete('bentoport get sample')).toEqual(['sample_service:latest', sample.bentoTag]);
    // After the ':' bash replaces only the version, so that is what is offered.
    expect(bashComplete('bentoport export sample_service:')).toEqual(['latest', sample.bentoTag.split(':')[1]]);
    expect(bashComplete('bentoport push sample_service:u4')).toEqual([sample.bentoTag.split(':')[1]]);
  });

  it('completes model tags after models delete, and from --home given on the line', () => {
    const modelTags = sample.models.map((model) => model.tag);
    const names = modelTags.map((tag) => `${tag.split(':')[0]}:latest`);
    expect(sorted(bashComplete('bentoport models delete '))).toEqual(sorted([...names, ...modelTags]));
    const elsewhere = shellEnvironment({ BENTOML_HOME: path.join(scratch, 'missing') });
    expect(bashComplete('bentoport models delete ', elsewhere)).toEqual([]);
    expect(sorted(bashComplete(`bentoport --home ${home} models delete `, elsewhere))).toEqual(sorted([...names, ...modelTags]));
  });

  it('completes paths for the arguments and flags that take one', () => {
    expect(sorted(bashComplete('bentoport import ar'))).toEqual(['archive.tar', 'archives']);
    expect(bashComplete(`bentoport export ${sample.bentoTag} archive.`)).toEqual(['archive.tar']);
    expect(bashComplete('bentoport --home ar')).toEqual(['archives']);
    expect(bashComplete('bentoport --home=ar')).toEqual(['archives']);
  });

  it('completes local and directories for the sides of a sync', () => {
    expect(bashComplete('bentoport sync lo')).toEqual(['local']);
    expect(bashComplete('bentoport sync local ar')).toEqual(['archives']);
  });
});

describeShell('zsh', () => {
  it('parses (zsh -n)', () => {
    expect(runShell('zsh', ['-n', scripts.zsh as string])).toEqual([]);
  });

  /**
   * Run the script's _bentoport as compinit would call it for `words` (the cursor in the last),
   * with zsh's completion builtins standing in as printers: compadd prints its candidates,
   * _files prints `_files ARGS`.
   */
  function zshComplete(words: string[]): string[] {
    const program = [
      'compdef() { :; }',
      'compadd() { print -rl -- "${@[${@[(i)--]}+1,-1]}"; }',
      '_files() { print -r -- "_files $*"; }',
      'compset() { :; }',
      'source "$1"; shift',
      'words=(bentoport "$@"); CURRENT=${#words}; PREFIX=${words[CURRENT]}',
      '_bentoport',
    ].join('\n');
    return runShell('zsh', ['-f', '-c', program, 'zsh', scripts.zsh as string, ...words]);
  }

  it('completes commands, flags of export, tags and paths', () => {
    expect(zshComplete(['ex'])).toEqual(['export']);
    expect(zshComplete(['export', '--checks'])).toEqual(['--checksum-file']);
    expect(zshComplete(['export', ''])).toEqual(['sample_service:latest', sample.bentoTag]);
    expect(sorted(zshComplete(['models', 'delete', '']))).toEqual(sorted([...sample.models.map((model) => `${model.tag.split(':')[0]}:latest`), ...sample.models.map((model) => model.tag)]));
    expect(zshComplete(['import', 'ar'])).toEqual(['_files ']);
    expect(zshComplete(['--home', ''])).toEqual(['_files -/']);
  });
});

describeShell('fish', () => {
  it('parses (fish --no-execute)', () => {
    expect(runShell('fish', ['--no-execute', scripts.fish as string])).toEqual([]);
  });

  /** What fish itself offers for `line` (`complete -C`), with the script sourced; descriptions cut off. */
  function fishComplete(line: string): string[] {
    const lines = runShell('fish', ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', scripts.fish as string, line]);
    return lines.map((candidate) => candidate.split('\t')[0] as string);
  }

  it('completes commands, flags of export, tags and paths', () => {
    expect(fishComplete('bentoport ex')).toEqual(['export']);
    expect(fishComplete('bentoport export --checks')).toEqual(['--checksum-file']);
    expect(sorted(fishComplete('bentoport export '))).toEqual(sorted(['sample_service:latest', sample.bentoTag]));
    expect(fishComplete('bentoport export sample_service:u')).toEqual([sample.bentoTag]);
    expect(sorted(fishComplete('bentoport models delete '))).toEqual(sorted([...sample.models.map((model) => `${model.tag.split(':')[0]}:latest`), ...sample.models.map((model) => model.tag)]));
    expect(sorted(fishComplete('bentoport import ar'))).toEqual(['archive.tar', 'archives/']);
    expect(fishComplete('bentoport --home=ar')).toEqual(['--home=archives/']);
  });
});

describe('bentoport completion', () => {
  it('refuses another shell with a usage error naming the three', async () => {
    const result = await runCli(['completion', 'tcsh']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("Error: unknown shell 'tcsh' (bash, zsh or fish). See 'bentoport completion --help'.\n");
  });

  it('says how to install the script in --help', async () => {
    const result = await runCli(['completion', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('source <(bentoport completion bash)');
    expect(result.stdout).toContain('~/.local/share/bash-completion/completions/bentoport');
    expect(result.stdout).toContain('fpath=(~/.zfunc $fpath)');
    expect(result.stdout).toContain('~/.config/fish/completions/bentoport.fish');
  });
});
