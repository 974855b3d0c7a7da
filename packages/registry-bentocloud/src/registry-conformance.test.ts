import { runRegistrySuite } from '@bentoport/registry-test-suite';
import { startBentoCloudApiDouble, type BentoCloudApiDouble } from '@bentoport/test-utils/bentocloud-api-double';
import { describe, expect, inject, it } from 'vitest';
import { bentoCloudRegistry, type BentoCloudRegistryOptions } from './index.js';

const motoEndpoint = inject('motoEndpoint');
const TOKEN = 'conformance-api-token';
const WRONG_TOKEN = 'not-the-api-token';

if (!motoEndpoint) {
  describe('registry-bentocloud conformance', () => {
    it.skip('skipped: moto is not installed', () => {});
  });
} else {
  let api: BentoCloudApiDouble | undefined;
  // Small parts (moto takes 64 KiB) and quick retries keep the checks fast.
  const options = (apiToken: string): BentoCloudRegistryOptions => ({ endpoint: api?.url, apiToken, env: {}, partSize: 64 * 1024, retryDelayMs: 5, retries: 2 });
  runRegistrySuite({
    name: 'registry-bentocloud (API double on moto S3)',
    setup: async () => {
      api = await startBentoCloudApiDouble({ s3Endpoint: motoEndpoint, token: TOKEN });
    },
    teardown: async () => {
      // The double refuses (and records) every request that leaves the documented flow; the
      // refused token is the one departure the suite asks for.
      const violations = api?.violations.filter((violation) => !violation.includes('get user by api token')) ?? [];
      await api?.close();
      expect(violations).toEqual([]);
    },
    registry: () => bentoCloudRegistry(options(TOKEN)),
    badCredentials: () => bentoCloudRegistry(options(WRONG_TOKEN)),
    secrets: [TOKEN, WRONG_TOKEN],
  });
}
