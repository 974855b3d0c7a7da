import { randomBytes } from 'node:crypto';
import { runTransportSuite } from '@bentoport/transport-test-suite';
import { describe, inject, it } from 'vitest';
import { freshBucket, inspectionClient, s3Location, TEST_CREDENTIALS } from './moto-fixtures.js';
import { s3Transport } from './s3-transport.js';

const endpoint = inject('motoEndpoint');
const MiB = 1024 * 1024;
const partSize = 5 * MiB;
const partsInFlight = 2;

let bucket = '';
const root = `conformance-${randomBytes(4).toString('hex')}`;

if (endpoint === '') {
  // A file must register a test even when it has nothing to run, or vitest fails it.
  describe('transport-s3 conformance against moto', () => {
    it.skip(`skipped: ${inject('motoMissing')}`, () => {});
  });
} else {
  runTransportSuite({
    name: 'transport-s3 (moto)',
    transport: s3Transport({ endpoint, credentials: TEST_CREDENTIALS, region: 'us-east-1', partSize, partsInFlight, rangeSize: MiB, proxy: false }),
    setup: async () => {
      bucket = await freshBucket(inspectionClient(endpoint), 'conformance');
    },
    location: (relativePath) => s3Location(bucket, relativePath === '' ? `${root}/` : `${root}/${relativePath}`),
    // The writer holds up to (partsInFlight + 1) parts before write() says stop.
    highWaterMark: (partsInFlight + 1) * partSize,
  });
}
