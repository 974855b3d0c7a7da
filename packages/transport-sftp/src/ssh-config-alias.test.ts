import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createBentoport, isBentoportError } from '@bentoport/core';
import { tarFormat } from '@bentoport/format-tar';
import { hashTree, makeScratchDir, removeScratchDirs, writeSampleBento } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sftpTransport, type SftpTransportOptions } from './sftp-transport.js';
import { makeUserDirectory, urlLocation } from './test-support/locations.js';

const servers = inject('sftp');

describe.skipIf(servers.skip !== undefined)(`sftp:// aliases of ~/.ssh/config against OpenSSH${servers.skip ? ` (skipped: ${servers.skip})` : ''}`, () => {
  let home = '';
  let directory = '';
  beforeAll(async () => {
    home = await makeScratchDir('ssh-config-home');
    directory = makeUserDirectory(servers, 'alias');
    await mkdir(path.join(home, '.ssh'));
    await writeFile(path.join(home, '.ssh', 'known_hosts.d'), '');
    // A key the server does not accept, offered first: the login goes on to the next IdentityFile.
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(home, '.ssh', 'id_refused')], { stdio: 'ignore' });
    await writeFile(path.join(home, '.ssh', 'config'), [
      'Host myalias',
      '  HostName 127.0.0.1',
      `  Port ${servers.port}`,
      `  User ${servers.user}`,
      '  IdentityFile ~/.ssh/missing_key',
      '  IdentityFile %d/.ssh/id_refused',
      `  IdentityFile ${servers.clientKey}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ~/.ssh/known_hosts.d ${servers.knownHosts}`,
      '',
      'Host jumpy',
      '  HostName 127.0.0.1',
      `  Port ${servers.port}`,
      '  ProxyJump bastion.example.com',
      '',
      // Host patterns match the name as typed, not HostName: myalias is not caught by this block.
      'Host 127.0.0.1',
      '  ProxyCommand nc %h %p',
      '',
      'Host *',
      '  ConnectTimeout 5',
    ].join('\n'));
  });
  afterAll(() => removeScratchDirs());

  // Nothing but the configuration says where, as whom and with which key: no options, no agent, no netrc.
  const transport = () => sftpTransport({ env: { HOME: home }, netrc: false, retryDelayMs: 50 });

  it('exports to sftp://myalias/… and imports it back: HostName, Port, User, IdentityFile and UserKnownHostsFile from the file', async () => {
    const source = await makeScratchDir('alias-source');
    const target = await makeScratchDir('alias-target');
    const sample = await writeSampleBento(source, { models: 1, weightsBytes: 256 * 1024 });
    const exporter = createBentoport({ home: source, formats: [tarFormat()], transports: [transport()] });
    const exported = await exporter.exportBento(sample.bentoTag, `sftp://myalias${directory}/`, 'gz');
    expect(exported.destination).toMatch(/^sftp:\/\/myalias\//);
    const importer = createBentoport({ home: target, formats: [tarFormat()], transports: [transport()] });
    const imported = await importer.importBento(`sftp://myalias${directory}/${path.posix.basename(exported.destination)}`);
    expect(imported.sha256).toBe(exported.sha256);
    expect(await hashTree(imported.item.path)).toEqual(await hashTree(sample.bentoPath));
  });

  it('refuses a ProxyJump host with one line naming the alias, before connecting anywhere', async () => {
    const error = await transport().stat(urlLocation(`sftp://jumpy${directory}/x.bento`)).catch((caught: unknown) => caught);
    expect(isBentoportError(error) && error.code).toBe('ERR_INVALID_OPTION');
    const { message } = error as Error;
    expect(message).not.toContain('\n');
    expect(message).toBe(
      `[transport-sftp] RESOLVE sftp://jumpy${directory}/x.bento: ProxyJump for host jumpy (${path.join(home, '.ssh', 'config')} line 14) is not supported: bentoport never runs ssh, and will not connect around the proxy`,
    );
  });

  it('lets the URL user win over the configuration', async () => {
    const error = await sftpTransport({ env: { HOME: home }, netrc: false, retries: 0 })
      .stat(urlLocation(`sftp://nobody-here@myalias${directory}`))
      .catch((caught: unknown) => caught);
    expect(isBentoportError(error) && error.code).toBe('ERR_AUTH');
    expect((error as Error).message).toContain('nobody-here@myalias');
  });

  it('matches Host against the name as typed, and reads no file with sshConfigPath: false', async () => {
    const url = `sftp://${encodeURIComponent(servers.user)}:${encodeURIComponent(servers.password)}@127.0.0.1:${servers.port}${directory}`;
    const options: SftpTransportOptions = { env: { HOME: home }, netrc: false, agent: false, privateKeyPath: [], knownHosts: servers.knownHosts, retries: 0 };
    const error = await sftpTransport(options).stat(urlLocation(url)).catch((caught: unknown) => caught);
    expect(isBentoportError(error) && error.code).toBe('ERR_INVALID_OPTION');
    expect((error as Error).message).toContain('ProxyCommand for host 127.0.0.1 (');
    expect((error as Error).message).not.toContain(servers.password);
    expect((await sftpTransport({ ...options, sshConfigPath: false }).stat(urlLocation(url))).type).toBe('directory');
  });
});
