import { runTransportSuite } from '@bentoport/transport-test-suite';
import { describe, inject, it } from 'vitest';
import { sftpTransport } from './sftp-transport.js';
import { makeUserDirectory, serverUrl, urlLocation } from './test-support/locations.js';

const servers = inject('sftp');

if (servers.skip !== undefined) {
  describe('transport-sftp conformance', () => {
    it.skip(`skipped: ${servers.skip}`, () => {});
  });
} else {
  // Password login, host key from a hashed known_hosts.
  let passwordDirectory = '';
  runTransportSuite({
    name: 'transport-sftp (OpenSSH, password)',
    transport: sftpTransport({ knownHosts: servers.hashedKnownHosts, agent: false, privateKeyPath: [] }),
    setup: () => {
      passwordDirectory = makeUserDirectory(servers, 'suite-password');
    },
    location: (relativePath) => urlLocation(`${serverUrl(servers)}${passwordDirectory}/${relativePath}`),
  });

  // Key login (encrypted key with its passphrase), no password in the URL.
  let keyDirectory = '';
  runTransportSuite({
    name: 'transport-sftp (OpenSSH, encrypted key)',
    transport: sftpTransport({
      knownHosts: servers.knownHosts,
      agent: false,
      privateKeyPath: servers.encryptedClientKey,
      passphrase: servers.passphrase,
      netrc: false,
    }),
    setup: () => {
      keyDirectory = makeUserDirectory(servers, 'suite-key');
    },
    location: (relativePath) => urlLocation(`${serverUrl(servers, { password: false })}${keyDirectory}/${relativePath}`),
  });
}
