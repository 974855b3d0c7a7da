import { expectRejects } from '../assertions.js';
import type { CheckContext } from '../check-context.js';
import { firstNext, label } from '../registry-io.js';

/** A pull of a version the registry never held rejects its first `next()` with ERR_NOT_FOUND (bento and model). */
export async function checkPullMissing(context: CheckContext): Promise<void> {
  const model = await context.model('missing-model');
  const bento = await context.bento('missing-bento');
  for (const ref of [model.ref, bento.ref]) {
    await expectRejects(() => firstNext(context.registry, ref), 'ERR_NOT_FOUND', `the first next() of pull(${label(ref)}) never pushed`);
  }
}
