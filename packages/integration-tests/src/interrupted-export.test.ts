import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Transport } from '@bentoport/spec';
import { writeSampleBento } from '@bentoport/test-utils';
import { fsTransport } from '@bentoport/transport-fs';
import { describe, expect, it } from 'vitest';
import { bentoportAt, rejectionOf, scratch } from './harness.js';

/**
 * A file transport whose writer takes until after the signal has fired to open, as an SFTP or FTP
 * connection does when Ctrl-C or SIGTERM comes during its handshake.
 */
function slowToOpenTransport(): Transport {
  const inner = fsTransport();
  return {
    ...inner,
    async write(location, options = {}) {
      const { signal } = options;
      if (signal && !signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      await new Promise((resolve) => setTimeout(resolve, 20));
      return inner.write(location, { ...options, signal: undefined });
    },
  };
}

describe('an export whose signal fires while the transport opens its writer', () => {
  for (const format of ['tar', 'gz', 'bento', 'zip']) {
    it(`ends with ERR_ABORTED and leaves nothing behind, without an unhandled error (${format})`, async () => {
      const { root, homeA } = await scratch('interrupted-export');
      const sample = await writeSampleBento(homeA, { models: 1, weightsBytes: 256 * 1024 });
      const controller = new AbortController();
      const bentoport = bentoportAt(homeA, { transports: [slowToOpenTransport()] });
      const destination = path.join(root, 'out', `x.${format}`);
      const exported = bentoport.exportBento(sample.bentoTag, destination, format, { signal: controller.signal });
      setTimeout(() => controller.abort(new Error('interrupted')), 10);
      const error = await rejectionOf(exported);
      expect(error.code).toBe('ERR_ABORTED');
      expect(await readdir(path.join(root, 'out')).catch(() => [])).toEqual([]);
    });
  }
});
