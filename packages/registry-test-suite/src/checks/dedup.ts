import type { CheckContext } from '../check-context.js';
import { expectSameItem, recordsOf } from '../entry-records.js';
import { bytesSent, label, pullRecords, push } from '../registry-io.js';
import { assert } from 'vitest';

const MiB = 1024 * 1024;
/** What a second push of unchanged content may still send: manifests, configs, metadata. */
const OVERHEAD_BYTES = 64 * 1024;

/**
 * "Content the registry already holds is not sent again": pushing an unchanged 2 MiB model a
 * second time (with `force`, so the registry cannot just answer "exists") sends at most 64 KiB,
 * judged by `bytesUploaded` or, without it, by the last `bytes` progress event. The first push
 * must have reported sending the content, so the measure means something.
 */
export async function checkDedup(context: CheckContext): Promise<void> {
  const { registry } = context;
  const model = await context.model('dedup-model', { weightsBytes: 2 * MiB });
  const first = bytesSent(await push(registry, model));
  assert(first !== undefined, `capabilities.dedup is true, but push(${label(model.ref)}) reports neither result.bytesUploaded nor bytes progress events, so dedup cannot be judged`);
  assert(first >= model.contentBytes / 2, `the first push(${label(model.ref)}) reports ${first} bytes sent of ${model.contentBytes} bytes of content: bytesUploaded must count bytes actually sent`);
  const second = bytesSent(await push(registry, model, { force: true }));
  assert(second !== undefined, `the second push(${label(model.ref)}) reports neither result.bytesUploaded nor bytes progress events`);
  assert(second <= OVERHEAD_BYTES, `pushing the unchanged ${label(model.ref)} again sent ${second} bytes (first push: ${first}); with capabilities.dedup at most ${OVERHEAD_BYTES}`);
  expectSameItem(await pullRecords(registry, model.ref), await recordsOf(model.entries()), `pull(${label(model.ref)}) after the deduplicated push`);
}
