import type { RegistryItemRef } from '@bentoport/spec';
import { describeError, expectRejects, isAssertionError, within } from '../assertions.js';
import { tapped, type BodyTap } from '../body-tap.js';
import type { CheckContext } from '../check-context.js';
import { expectSameItem, recordsOf } from '../entry-records.js';
import { firstNext, has, label, pullRecords, push } from '../registry-io.js';
import { assert } from 'vitest';

const MiB = 1024 * 1024;
/** How long a fired signal may take to end an operation. */
const ABORT_MILLISECONDS = 15_000;

/** "A failed or aborted push leaves no visible version": `has` is false and a pull finds nothing. */
async function expectNothingVisible(context: CheckContext, ref: RegistryItemRef, after: string): Promise<void> {
  assert((await has(context.registry, ref)) === false, `has(${label(ref)}) is true ${after}`);
  await expectRejects(() => firstNext(context.registry, ref), 'ERR_NOT_FOUND', `the first next() of pull(${label(ref)}) ${after}`);
}

/** `push` with an aborted signal rejects with ERR_ABORTED and leaves no visible version. */
export async function checkPushAbortedSignal(context: CheckContext): Promise<void> {
  const model = await context.model('abort-before-model');
  await expectRejects(() => context.registry.push(model, { signal: AbortSignal.abort() }), 'ERR_ABORTED', `push(${label(model.ref)}) with an aborted signal`);
  await expectNothingVisible(context, model.ref, 'after a push with an aborted signal');
}

/**
 * The signal firing mid-upload (after 1 MiB of a 4 MiB model was read, or the first progress
 * event past 1 MiB) rejects the push with ERR_ABORTED within 15 s and leaves no visible version;
 * pushing again afterwards works.
 */
export async function checkPushSignalMidUpload(context: CheckContext): Promise<void> {
  const { registry } = context;
  const model = await context.model('abort-mid-model', { weightsBytes: 4 * MiB });
  const controller = new AbortController();
  const fire = (): void => controller.abort(new Error('conformance suite: abort mid-push'));
  const tap: BodyTap = { read: 0, trigger: { bytes: MiB, action: fire } };
  const pushing = registry.push(tapped(model, tap), {
    signal: controller.signal,
    onProgress: (event) => {
      if (event.type === 'bytes' && event.bytesDone >= MiB) fire();
    },
  });
  const what = `push(${label(model.ref)}) after its signal fired mid-upload`;
  let outcome: unknown;
  try {
    await within(pushing, what, ABORT_MILLISECONDS + 45_000);
    outcome = 'resolved';
  } catch (error) {
    outcome = error;
  }
  if (outcome === 'resolved') {
    assert.fail(controller.signal.aborted ? `${what} resolved: the signal was ignored` : `push(${label(model.ref)}) completed before the suite could abort it: it read no body through entries() and reported no bytes progress past 1 MiB`);
  }
  await expectRejects(() => Promise.reject(outcome), 'ERR_ABORTED', what);
  await expectNothingVisible(context, model.ref, 'after its push was aborted');
  await push(registry, model);
  expectSameItem(await pullRecords(registry, model.ref), await recordsOf(model.entries()), `pull(${label(model.ref)}) pushed again after an aborted push`);
}

/** `pull` with an aborted signal rejects its first `next()` with ERR_ABORTED. */
export async function checkPullAbortedSignal(context: CheckContext): Promise<void> {
  const bento = await context.bento('abort-before-pull');
  await push(context.registry, bento);
  await expectRejects(() => firstNext(context.registry, bento.ref, { signal: AbortSignal.abort() }), 'ERR_ABORTED', `the first next() of pull(${label(bento.ref)}) with an aborted signal`);
}

/**
 * The signal firing while a body is read (a 2 MiB model's weights) ends the pull with ERR_ABORTED
 * within 15 s: from the body stream or from the next `next()`; the pull never completes.
 */
export async function checkPullSignalMidBody(context: CheckContext): Promise<void> {
  const { registry } = context;
  const model = registry.capabilities.separateModels ? await context.model('abort-mid-pull', { weightsBytes: 2 * MiB }) : undefined;
  const item = model ?? (await context.bento('abort-mid-pull'));
  await push(registry, item);
  const controller = new AbortController();
  const what = `pull(${label(item.ref)}) after its signal fired mid-body`;
  const iterator = registry.pull(item.ref, { signal: controller.signal })[Symbol.asyncIterator]();
  let fired = false;
  try {
    await within(
      (async () => {
        for (;;) {
          const next = await iterator.next();
          if (next.done) break;
          const body = next.value.open?.();
          if (body === undefined) continue;
          for await (const chunk of body) {
            void chunk;
            if (!fired) {
              fired = true;
              controller.abort(new Error('conformance suite: abort mid-pull'));
            }
          }
        }
      })(),
      what,
      ABORT_MILLISECONDS,
    );
  } catch (error) {
    if (isAssertionError(error)) throw error;
    assert(fired, `${what} failed before the signal fired: ${describeError(error)}`);
    await expectRejects(() => Promise.reject(error), 'ERR_ABORTED', what);
    return;
  } finally {
    void iterator.return?.()?.catch(() => {});
  }
  assert.fail(fired ? `${what} completed: the signal was ignored` : `pull(${label(item.ref)}) delivered no body to abort`);
}
