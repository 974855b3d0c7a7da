import { describe, expect, it } from 'vitest';
import { parseNetloc } from './netloc.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseNetrc, resolveLogin } from './netrc.js';

describe('parseNetloc', () => {
  it('decodes the user and password and splits host and port', () => {
    expect(parseNetloc('us%40er:p%2Fa%3Ass@127.0.0.1:2121')).toEqual({ user: 'us@er', password: 'p/a:ss', hostname: '127.0.0.1', port: 2121 });
    expect(parseNetloc('example.com')).toEqual({ hostname: 'example.com' });
    expect(parseNetloc('alice@[::1]:22')).toEqual({ user: 'alice', hostname: '::1', port: 22 });
    expect(parseNetloc('bob:@host')).toEqual({ user: 'bob', password: '', hostname: 'host' });
  });

  it('refuses an empty host or a bad port without printing the password', () => {
    expect(() => parseNetloc('user:secret@')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TARGET' }));
    const error = (() => {
      try {
        parseNetloc('user:secret@host:99999');
      } catch (caught) {
        return caught as Error;
      }
      return undefined;
    })();
    expect(error?.message).toContain('port 99999');
    expect(error?.message).not.toContain('secret');
  });
});

describe('parseNetrc', () => {
  const text = [
    '# comment',
    'machine ftp.example.com login alice password "s3 cret"',
    'macdef init',
    'cd /pub',
    '',
    'machine other login bob',
    'password hunter2',
    'default login anonymous password guest',
  ].join('\n');

  it('finds the machine entry, quoted passwords included, and skips macdef bodies', () => {
    expect(parseNetrc(text, 'ftp.example.com')).toEqual({ login: 'alice', password: 's3 cret' });
    expect(parseNetrc(text, 'OTHER')).toEqual({ login: 'bob', password: 'hunter2' });
  });

  it('falls back to default, or nothing', () => {
    expect(parseNetrc(text, 'unknown.example')).toEqual({ login: 'anonymous', password: 'guest' });
    expect(parseNetrc('machine a login x', 'b')).toBeUndefined();
  });
});

describe('resolveLogin', () => {
  const directory = mkdtempSync(path.join(tmpdir(), 'kit-netrc-'));
  const file = path.join(directory, 'netrc');
  writeFileSync(file, 'machine h login alice password secret\n');
  const env = { NETRC: file };

  it('takes what the URL lacks from netrc, the password only for the same user', async () => {
    expect(await resolveLogin({ hostname: 'h' }, { netrc: true, env })).toEqual({ user: 'alice', password: 'secret' });
    expect(await resolveLogin({ hostname: 'h', user: 'alice' }, { netrc: true, env })).toEqual({ user: 'alice', password: 'secret' });
    expect(await resolveLogin({ hostname: 'h', user: 'bob' }, { netrc: true, env })).toEqual({ user: 'bob', password: undefined });
    expect(await resolveLogin({ hostname: 'h', user: 'bob', password: 'pw' }, { netrc: true, env })).toEqual({ user: 'bob', password: 'pw' });
  });

  it('reads no file when netrc is off', async () => {
    expect(await resolveLogin({ hostname: 'h' }, { netrc: false, env })).toEqual({ user: undefined, password: undefined });
    rmSync(directory, { recursive: true, force: true });
  });
});
