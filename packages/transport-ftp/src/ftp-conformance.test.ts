import { runTransportSuite } from '@bentoport/transport-test-suite';
import { describe, inject, it } from 'vitest';
import { ftpTransport } from './ftp-transport.js';
import { makeUserDirectory, serverUrl, urlLocation, type ServerKind } from './test-support/locations.js';

const servers = inject('ftp');

if (servers.skip !== undefined) {
  describe('transport-ftp conformance', () => {
    it.skip(`skipped: ${servers.skip}`, () => {});
  });
} else {
  const cases: { kind: ServerKind; query: string }[] = [
    { kind: 'plain', query: '' },
    { kind: 'explicit', query: '?tls=explicit' },
  ];
  for (const { kind, query } of cases) {
    let directory = '';
    runTransportSuite({
      name: `transport-ftp (vsftpd, ${kind})`,
      transport: ftpTransport({ ca: servers.certificate }),
      setup: () => {
        directory = makeUserDirectory(servers, `suite-${kind}`);
      },
      location: (relativePath) => urlLocation(`${serverUrl(servers, kind)}${directory}/${relativePath}${query}`),
    });
  }
}
