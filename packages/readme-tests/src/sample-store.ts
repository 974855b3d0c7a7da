import { writeSampleBento } from '@bentoport/test-utils';

/**
 * The bentos and models the READMEs name, read off their blocks: `iris_classifier` (latest
 * `abc123`, so `:abc` resolves to it; `u432a5xip2dc6ax4` is the older version) with
 * `iris_model:abc123`, `iris:v1` and `svc:v1` (the blocks read back `iris-v1.bento` and
 * `svc-v1.bento`). Small weights: the blocks check commands, not throughput.
 */
export const SAMPLE_BENTOS = [
  { name: 'iris_classifier', version: 'u432a5xip2dc6ax4', creationTime: '2025-01-02T03:04:05.678901+00:00', models: [{ name: 'iris_model', version: 'u432a5xip2dc6ax4' }] },
  { name: 'iris_classifier', version: 'abc123', creationTime: '2025-02-03T04:05:06.000000+00:00', models: [{ name: 'iris_model', version: 'abc123' }] },
  { name: 'iris', version: 'v1', creationTime: '2025-01-02T03:04:05.678901+00:00', models: [{ name: 'iris_features', version: 'v1' }] },
  { name: 'svc', version: 'v1', creationTime: '2025-01-02T03:04:05.678901+00:00', models: [{ name: 'svc_model', version: 'v1' }] },
] as const;

/** Write the sample store into `home` (a BentoML home). */
export async function writeSampleStore(home: string): Promise<void> {
  let seed = 1;
  for (const bento of SAMPLE_BENTOS) {
    await writeSampleBento(home, {
      name: bento.name,
      version: bento.version,
      creationTime: bento.creationTime,
      models: bento.models.map((model) => ({ ...model })),
      seed: seed++,
      weightsBytes: 64 * 1024,
      sourceFiles: 5,
    });
  }
}
