import type { CheckContext } from '../check-context.js';
import { expectSameItem, recordsOf } from '../entry-records.js';
import { has, label, pullRecords, push, pushWithModels } from '../registry-io.js';
import { assert } from 'vitest';

/** `has` answers false, not an error, for versions the registry never held (a bento and a model). */
export async function checkHasMissing(context: CheckContext): Promise<void> {
  const model = await context.model('has-missing-model');
  const bento = await context.bento('has-missing-bento');
  for (const ref of [model.ref, bento.ref]) assert((await has(context.registry, ref)) === false, `has(${label(ref)}) is true for a version never pushed`);
}

/** A model pushed on its own: `has` turns true, and a pull gives back exactly its entries. */
export async function checkModelRoundTrip(context: CheckContext): Promise<void> {
  const { registry } = context;
  const model = await context.model('round-trip-model');
  await push(registry, model);
  assert(await has(registry, model.ref), `has(${label(model.ref)}) is false after its push resolved`);
  expectSameItem(await pullRecords(registry, model.ref), await recordsOf(model.entries()), `pull(${label(model.ref)})`);
}

/**
 * A bento pushed as core pushes it (its models first where the registry keeps them separately):
 * `has` turns true, a pull gives back exactly its entries (without `models/`), and so does a pull
 * of each model.
 */
export async function checkBentoRoundTrip(context: CheckContext): Promise<void> {
  const { registry } = context;
  const model = await context.model('round-trip-bento-model');
  const bento = await context.bento('round-trip-bento', [model]);
  await pushWithModels(registry, bento);
  assert(await has(registry, bento.ref), `has(${label(bento.ref)}) is false after its push resolved`);
  expectSameItem(await pullRecords(registry, bento.ref), await recordsOf(bento.entries()), `pull(${label(bento.ref)})`);
  if (registry.capabilities.separateModels) {
    assert(await has(registry, model.ref), `has(${label(model.ref)}) is false after the bento's models were pushed`);
    expectSameItem(await pullRecords(registry, model.ref), await recordsOf(model.entries()), `pull(${label(model.ref)}) of the bento's model`);
  }
}
