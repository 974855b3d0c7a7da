import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeScratchDir, removeScratchDirs } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveEndpoint, type EndpointSettings } from './sftp-endpoint.js';
import { urlLocation } from './test-support/locations.js';

let settings: EndpointSettings;

beforeAll(async () => {
  const home = await makeScratchDir('endpoint-home');
  await mkdir(path.join(home, '.ssh'));
  await writeFile(path.join(home, '.ssh', 'config'), [
    'Host db',
    '  HostName %h.internal.example.com',
    '  User deploy',
    '  Port 2222',
    '  IdentityFile ~/.ssh/%r@%h',
    '  IdentityFile %d/keys/%u-%n-%p',
    '  UserKnownHostsFile none',
    '  ConnectTimeout 1m',
    'Host typo',
    '  IdentityFile ~/.ssh/%C',
    '',
  ].join('\n'));
  settings = {
    netrc: false,
    env: {},
    defaultUser: 'ada',
    home,
    sshConfig: { path: path.join(home, '.ssh', 'config'), required: false },
    given: { privateKeys: false, agent: false, knownHosts: false, connectTimeoutMs: false },
  };
});
afterAll(() => removeScratchDirs());

describe('resolveEndpoint with ~/.ssh/config', () => {
  it('takes HostName, User, Port and expands the tokens of IdentityFile with the final values', async () => {
    const endpoint = await resolveEndpoint(urlLocation('sftp://db/srv/x.bento'), settings);
    expect(endpoint).toMatchObject({ hostname: 'db.internal.example.com', port: 2222, user: 'deploy', knownHosts: ['/etc/ssh/ssh_known_hosts'], connectTimeoutMs: 60_000, useAgent: true });
    expect(endpoint.privateKeyPaths).toEqual([
      path.join(settings.home, '.ssh', 'deploy@db.internal.example.com'),
      path.join(settings.home, 'keys', 'ada-db-2222'),
    ]);
  });

  it('lets the URL user and port win, and %r and %p follow them', async () => {
    const endpoint = await resolveEndpoint(urlLocation('sftp://root@db:2022/srv/x.bento'), settings);
    expect(endpoint).toMatchObject({ hostname: 'db.internal.example.com', port: 2022, user: 'root' });
    expect(endpoint.privateKeyPaths).toEqual([path.join(settings.home, '.ssh', 'root@db.internal.example.com'), path.join(settings.home, 'keys', 'ada-db-2022')]);
  });

  it('leaves what the options gave alone', async () => {
    const given = { privateKeys: true, agent: true, knownHosts: true, connectTimeoutMs: true };
    const endpoint = await resolveEndpoint(urlLocation('sftp://db/x'), { ...settings, given });
    expect(endpoint.privateKeyPaths).toBeUndefined();
    expect(endpoint.knownHosts).toBeUndefined();
    expect(endpoint.connectTimeoutMs).toBeUndefined();
  });

  it('names the file and line of an unknown token', async () => {
    await expect(resolveEndpoint(urlLocation('sftp://typo/x'), settings)).rejects.toThrow(
      `[transport-sftp] RESOLVE sftp://typo/x: bad SSH configuration: ${settings.home}/.ssh/config line 10: the token %C is not supported here`,
    );
  });
});
