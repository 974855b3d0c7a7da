import { BentoportError } from '@bentoport/spec';
import { tapped } from '../body-tap.js';
import type { CheckContext } from '../check-context.js';
import { expectSameItem, recordsOf } from '../entry-records.js';
import { bytesSent, label, pullRecords, push, type PushRecord } from '../registry-io.js';
import { assert } from 'vitest';

const MiB = 1024 * 1024;

/**
 * "An interrupted upload can be continued": a 4 MiB model whose local read fails once, with ERR_IO,
 * after 3 MiB (a flaky disk, a killed process). Either the push carries on by itself and sends
 * less than 1.4× the content in all, or it fails and the next push sends less than 0.6× the
 * content. Registries commit progress in chunks: configure yours to commit at least every 512 KiB
 * for this check.
 */
export async function checkResume(context: CheckContext): Promise<void> {
  const { registry } = context;
  const model = await context.model('resume', { weightsBytes: 4 * MiB });
  const failure = new BentoportError('ERR_IO', '[registry-test-suite] read saved_model.pkl: input/output error (a deliberate one-time failure)');
  let interrupted: PushRecord | undefined;
  try {
    interrupted = await push(registry, tapped(model, { read: 0, trigger: { bytes: 3 * MiB, error: failure } }));
  } catch {
    interrupted = undefined;
  }
  const content = model.contentBytes;
  if (interrupted !== undefined) {
    const sent = bytesSent(interrupted);
    assert(sent !== undefined, `push(${label(model.ref)}) reports neither result.bytesUploaded nor bytes progress events, so resuming cannot be judged`);
    assert(sent < 1.4 * content, `push(${label(model.ref)}) carried on after the interruption but sent ${sent} bytes for ${content} bytes of content: it started over instead of resuming`);
  } else {
    const sent = bytesSent(await push(registry, model));
    assert(sent !== undefined, `push(${label(model.ref)}) reports neither result.bytesUploaded nor bytes progress events, so resuming cannot be judged`);
    assert(sent < 0.6 * content, `the push after an interrupted one sent ${sent} bytes for ${content} bytes of content, 3 MiB of which the registry had received: it started over instead of resuming`);
  }
  expectSameItem(await pullRecords(registry, model.ref), await recordsOf(model.entries()), `pull(${label(model.ref)}) after a resumed push`);
}
