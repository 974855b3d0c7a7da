import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { createBentoport } from '@bentoport/core';
import { BentoportError } from '@bentoport/spec';
import { makeScratchDir, removeScratchDirs, writeSampleBento } from '@bentoport/test-utils';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ociRegistry } from './index.js';
import { startHeldAnswerProxy } from './test-support/held-answer-proxy.js';

const servers = inject('oci');
const CHUNK = 64 * 1024;

/**
 * The upload sessions the registry holds under `prefix`, in distribution's storage layout: a
 * cancelled one loses its `startedat` (distribution leaves an empty `hashstates` behind).
 */
async function sessionsUnder(prefix: string): Promise<string[]> {
  const root = path.join(servers.openData, 'docker', 'registry', 'v2', 'repositories', prefix);
  const entries = (await readdir(root, { recursive: true }).catch((): string[] => [])).map(String);
  return entries.filter((entry) => /(^|\/)_uploads\/[^/]+\/startedat$/.test(entry)).map((entry) => path.dirname(entry));
}

describe.skipIf(servers.skip !== undefined)('a push stopped by its signal', () => {
  afterAll(() => removeScratchDirs());

  it('cancels its upload session even when the stop lands while a chunk’s answer is on the way, and keeps nothing for a resume', async () => {
    const cache = await makeScratchDir('oci-stopped-cache');
    const home = await makeScratchDir('oci-stopped-home');
    await writeSampleBento(home, { name: 'svc', version: 'v1', models: [{ name: 'weights', version: 'v1', weightsBytes: 512 * 1024 }] });
    const controller = new AbortController();
    // The third chunk of the model's layer: the registry has it, the push has not heard so yet.
    const proxy = await startHeldAnswerProxy({ upstreamPort: servers.openPort, occurrence: 3, holdMs: 300, onAnswer: () => controller.abort(new BentoportError('ERR_ABORTED', 'interrupted by SIGTERM')) });
    const prefix = `stopped${process.pid}`;
    try {
      const registry = ociRegistry({ url: `oci://127.0.0.1:${proxy.port}/${prefix}`, cacheDirectory: cache, dockerConfig: false, env: {}, chunkSize: CHUNK, retries: 0 });
      const pushed = createBentoport({ home, registries: [registry] }).push('svc:v1', { signal: controller.signal });
      const failure = await pushed.catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: 'ERR_ABORTED' });
      expect(proxy.held()).toBe(true);
      expect(await sessionsUnder(prefix)).toEqual([]);
      // Nothing to resume, nothing for a sweep: the stopped push left no trace.
      expect(await readdir(path.join(cache, 'uploads')).catch((): string[] => [])).toEqual([]);
      expect(await readdir(path.join(cache, 'leftovers')).catch((): string[] => [])).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});
