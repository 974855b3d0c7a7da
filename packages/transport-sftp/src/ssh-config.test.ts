import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeScratchDir, removeScratchDirs } from '@bentoport/test-utils';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { expandTokens, hostPatternsMatch, parseTimeInterval, readSshConfig, splitConfigLine, SshConfigError } from './ssh-config.js';

let home = '';
let config = '';

/** Write `~/.ssh/<name>` (lines joined) in this test's home. */
async function write(name: string, lines: string[]): Promise<string> {
  const file = path.join(home, '.ssh', name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

const read = (host: string) => readSshConfig(config, host, { home });

beforeEach(async () => {
  home = await makeScratchDir('ssh-config');
  config = path.join(home, '.ssh', 'config');
});
afterAll(() => removeScratchDirs());

describe('splitConfigLine', () => {
  it('reads keywords in any case, with "=" or spaces, quoted arguments and trailing comments', () => {
    expect(splitConfigLine('  HostName=example.com', 'f', 1)).toEqual({ keyword: 'hostname', args: ['example.com'], line: 1 });
    expect(splitConfigLine('IDENTITYFILE "~/my keys/id" # work key', 'f', 2)).toEqual({ keyword: 'identityfile', args: ['~/my keys/id'], line: 2 });
    expect(splitConfigLine('Port = 2222', 'f', 3)?.args).toEqual(['2222']);
    expect(splitConfigLine('   # a comment', 'f', 4)).toBeUndefined();
    expect(splitConfigLine('', 'f', 5)).toBeUndefined();
  });

  it('names the file and line of an unclosed quote', () => {
    expect(() => splitConfigLine('IdentityFile "~/x', '/home/a/.ssh/config', 7)).toThrow('/home/a/.ssh/config line 7: a quote is not closed');
  });
});

describe('hostPatternsMatch', () => {
  it('matches *, ? and several patterns, ignoring case', () => {
    expect(hostPatternsMatch(['*.example.com'], 'db.EXAMPLE.com')).toBe(true);
    expect(hostPatternsMatch(['web?'], 'web1')).toBe(true);
    expect(hostPatternsMatch(['web?'], 'web12')).toBe(false);
    expect(hostPatternsMatch(['alpha', 'beta'], 'beta')).toBe(true);
    expect(hostPatternsMatch(['a.b'], 'aXb')).toBe(false);
  });

  it('lets a matching negation rule a block out, and needs a positive match besides', () => {
    expect(hostPatternsMatch(['*', '!bastion'], 'bastion')).toBe(false);
    expect(hostPatternsMatch(['!bastion', '*'], 'web')).toBe(true);
    expect(hostPatternsMatch(['!bastion'], 'web')).toBe(false);
  });
});

describe('tokens and times', () => {
  it('expands known tokens and %%, and names the line of an unknown one', () => {
    expect(expandTokens('%d/.ssh/%r@%h-%%', { d: '/home/a', r: 'deploy', h: 'db' }, { file: 'c', line: 1 })).toBe('/home/a/.ssh/deploy@db-%');
    expect(() => expandTokens('~/.ssh/%C', { h: 'db' }, { file: 'c', line: 9 })).toThrow(/^c line 9: the token %C is not supported here/);
  });

  it('reads ssh time intervals', () => {
    expect(parseTimeInterval('10')).toBe(10_000);
    expect(parseTimeInterval('1m30s')).toBe(90_000);
    expect(parseTimeInterval('ten')).toBeUndefined();
  });
});

describe('readSshConfig', () => {
  it('takes the first value obtained for each keyword, across blocks, and every IdentityFile in order', async () => {
    await write('config', [
      'Port 2200',
      'Host myalias',
      '  HostName %h.internal',
      '  User deploy',
      '  IdentityFile ~/.ssh/first',
      'Host my*',
      '  User other',
      '  Port 2222',
      '  IdentityFile %d/.ssh/second',
      'Host *',
      '  HostName fallback.example.com',
      '  ConnectTimeout 7',
    ]);
    const result = await read('myalias');
    expect(result.hostName).toEqual({ value: '%h.internal', file: config, line: 3 });
    expect(result.user?.value).toBe('deploy');
    // Lines before the first Host apply to every host, and come first.
    expect(result.port).toEqual({ value: 2200, file: config, line: 1 });
    expect(result.identityFiles.map((entry) => entry.value)).toEqual(['~/.ssh/first', '%d/.ssh/second']);
    expect(result.connectTimeoutMs?.value).toBe(7000);

    const other = await read('elsewhere');
    expect(other.hostName?.value).toBe('fallback.example.com');
    expect(other.user).toBeUndefined();
    expect(other.identityFiles).toEqual([]);
  });

  it('skips blocks whose negated pattern matches, and Match blocks other than Match all', async () => {
    await write('config', [
      'Host * !secret',
      '  User everyone',
      'Match exec "true"',
      '  User matched',
      'Match all',
      '  IdentitiesOnly yes',
      '  UserKnownHostsFile ~/.ssh/a %d/b',
    ]);
    expect((await read('public')).user?.value).toBe('everyone');
    const secret = await read('secret');
    expect(secret.user).toBeUndefined();
    expect(secret.identitiesOnly?.value).toBe(true);
    expect(secret.userKnownHostsFiles?.value).toEqual(['~/.ssh/a', '%d/b']);
  });

  it('reads Include files relative to ~/.ssh, with globs, in place and in name order', async () => {
    await write('conf.d/20-web.conf', ['Host web', '  User from-20', '  Port 2020']);
    await write('conf.d/10-web.conf', ['Host web', '  User from-10']);
    await write('conf.d/readme.txt', ['Host web', '  User from-txt']);
    await write('absolute.conf', ['Host db', '  User from-absolute']);
    await write('config', [
      'Include conf.d/*.conf',
      `Include ${path.join(home, '.ssh', 'absolute.conf')} missing-*.conf`,
      'Host web db',
      '  User from-config',
      '  Port 22',
    ]);
    const web = await read('web');
    expect(web.user).toEqual({ value: 'from-10', file: path.join(home, '.ssh', 'conf.d', '10-web.conf'), line: 2 });
    expect(web.port?.value).toBe(2020);
    expect((await read('db')).user?.value).toBe('from-absolute');
  });

  it('includes a file inside a Host block only for that host, and restores the block after it', async () => {
    await write('work.conf', ['User worker', 'Host *', '  Port 2022']);
    await write('config', ['Host work', '  Include work.conf', '  IdentityFile ~/.ssh/work', 'Host *', '  User nobody']);
    const work = await read('work');
    expect(work.user?.value).toBe('worker');
    expect(work.port?.value).toBe(2022);
    expect(work.identityFiles.map((entry) => entry.value)).toEqual(['~/.ssh/work']);
    const home = await read('home');
    expect(home.user?.value).toBe('nobody');
    expect(home.port).toBeUndefined();
  });

  it('keeps the first of ProxyJump and ProxyCommand, none included', async () => {
    await write('config', ['Host direct', '  ProxyJump none', 'Host jumped', '  ProxyJump bastion', 'Host *', '  ProxyCommand ssh -W %h:%p gateway']);
    expect((await read('jumped')).proxy).toEqual({ keyword: 'ProxyJump', value: 'bastion', file: config, line: 4 });
    expect((await read('direct')).proxy?.value).toBe('none');
    expect((await read('other')).proxy).toMatchObject({ keyword: 'ProxyCommand', value: 'ssh -W %h:%p gateway' });
  });

  it('names the file and line of a bad value, even in a block that does not apply', async () => {
    await write('config', ['Host a', '  Port 22', 'Host b', '  Port twenty']);
    const error = await read('a').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SshConfigError);
    expect((error as Error).message).toBe(`${config} line 4: Port must be a number from 1 to 65535, got "twenty"`);
    await write('inner.conf', ['IdentitiesOnly maybe']);
    await write('config', ['Include inner.conf']);
    await expect(read('a')).rejects.toThrow(`${path.join(home, '.ssh', 'inner.conf')} line 1: IdentitiesOnly must be yes or no, got "maybe"`);
  });

  it('treats a missing default file as empty, a missing required one as an error, and stops Include loops', async () => {
    expect(await read('a')).toEqual({ identityFiles: [] });
    await expect(readSshConfig(config, 'a', { home, required: true })).rejects.toThrow(`${config}: cannot be read (ENOENT)`);
    await write('config', ['Include config']);
    await expect(read('a')).rejects.toThrow(/line 1: Include nested more than 16 deep/);
  });
});
