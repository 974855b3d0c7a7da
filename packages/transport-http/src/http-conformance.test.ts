import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { runTransportSuite } from '@bentoport/transport-test-suite';
import { describe, inject, it } from 'vitest';
import { httpTransport } from './http-transport.js';
import { httpLocation, uniqueName } from './test-support/locations.js';

const servers = inject('http');
if (servers.skip !== undefined) {
  // A file must register a test even when it has nothing to run, or vitest fails it.
  describe('transport-http conformance against nginx', () => {
    it.skip(`skipped: ${servers.skip}`, () => {});
  });
}

/** Register the suite against one nginx server, in a fresh directory created on disk. */
function suiteAgainst(name: string, protocol: 'http' | 'https', port: number, root: string, options: Parameters<typeof httpTransport>[0]): void {
  if (servers.skip !== undefined) return;
  const directory = uniqueName(name);
  runTransportSuite({
    name,
    transport: httpTransport({ retryDelayMs: 50, ...options }),
    setup: () => {
      mkdirSync(path.join(root, directory));
    },
    location: (relativePath) => httpLocation(protocol, `127.0.0.1:${port}`, `/${directory}/${relativePath}`),
  });
}

suiteAgainst('transport-http (nginx WebDAV)', 'http', servers.davPort, servers.davRoot, {});
suiteAgainst('transport-http (nginx WebDAV over TLS, custom CA)', 'https', servers.tlsPort, servers.davRoot, { ca: servers.certificate });
suiteAgainst('transport-http (nginx plain PUT, webdav off)', 'http', servers.plainPort, servers.plainRoot, { webdav: false });
