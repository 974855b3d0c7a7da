import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runRegistrySuite } from '@bentoport/registry-test-suite';
import { describe, inject, it } from 'vitest';
import { ociRegistry, type OciRegistryOptions } from './index.js';

const servers = inject('oci');
const WRONG_PASSWORD = 'not-the-oci-password';

if (servers.skip !== undefined) {
  describe('registry-oci conformance', () => {
    it.skip(`skipped: ${servers.skip}`, () => {});
  });
} else {
  let cache = '';
  // The registry with Basic auth (so the ERR_AUTH checks meet the same server), small chunks (so
  // an interrupted upload has committed chunks to resume from), and a private digest cache.
  const options = (password: string): OciRegistryOptions => ({
    url: `oci://127.0.0.1:${servers.basicPort}/conformance`,
    username: servers.user,
    password,
    chunkSize: 256 * 1024,
    cacheDirectory: cache,
    dockerConfig: false,
    env: {},
  });
  runRegistrySuite({
    name: 'registry-oci (CNCF distribution, Basic auth)',
    setup: async () => {
      cache = await mkdtemp(path.join(tmpdir(), 'bentoport-oci-conformance-'));
    },
    teardown: () => rm(cache, { recursive: true, force: true }),
    registry: () => ociRegistry(options(servers.password)),
    badCredentials: () => ociRegistry(options(WRONG_PASSWORD)),
    secrets: [servers.password, WRONG_PASSWORD],
  });
}
