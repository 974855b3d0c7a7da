import { createBentoport, isBentoportError } from '@bentoport/core';
import { makeScratchDir, removeScratchDirs, startRefusingProxy, writeSampleBento, type RefusingProxy } from '@bentoport/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ociRegistry } from './index.js';

/** `promise`'s rejection, or a failure saying it was still pending after `ms`: a hang fails as an assertion. */
async function rejectionWithin(promise: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise.then(() => new Error('succeeded through a proxy that refuses everything'), (error: unknown) => error), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A corporate proxy that blocks the registry: every request gets the proxy's own 403 (with a body,
 * even after HEAD) and a closed connection. Nothing listens on the registry's port: the proxy
 * answers for it.
 */
describe('registry-oci through HTTP_PROXY at a proxy that refuses everything', () => {
  let proxy: RefusingProxy;
  beforeAll(async () => {
    proxy = await startRefusingProxy();
  });
  afterAll(async () => {
    await proxy?.close();
    await removeScratchDirs();
  });

  it('fails a push and a pull with one line naming the proxy, instead of leaving them pending', async () => {
    const home = await makeScratchDir('oci-refused');
    const sample = await writeSampleBento(home, { name: 'svc', models: 1, weightsBytes: 1024 });
    const registry = ociRegistry({
      url: 'oci://127.0.0.1:9/team',
      cacheDirectory: false,
      dockerConfig: false,
      retries: 0,
      env: { HTTP_PROXY: proxy.url, NO_PROXY: '' },
    });
    const bentoport = createBentoport({ home, registries: [registry] });
    for (const operation of [() => bentoport.push(sample.bentoTag), () => bentoport.pull(sample.bentoTag, { force: true })]) {
      const error = await rejectionWithin(operation(), 10_000);
      expect(isBentoportError(error), String(error)).toBe(true);
      const refused = `: the proxy ${proxy.url.replaceAll('.', '\\.')} refused the request with 403 Forbidden( \\(refused by the proxy\\))?; check HTTP_PROXY/NO_PROXY$`;
      expect((error as Error).message).toMatch(new RegExp(`^\\[registry-oci\\] (HEAD|GET) oci://127\\.0\\.0\\.1:9/team .*${refused}`));
      expect((error as Error).message).not.toContain('\n');
    }
    expect(proxy.requests.length).toBeGreaterThan(0);
  });
});
