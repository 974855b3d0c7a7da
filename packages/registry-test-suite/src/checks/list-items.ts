import type { Registry, RegistryListing, RegistryPushItem } from '@bentoport/spec';
import { expectRejects, within } from '../assertions.js';
import type { CheckContext } from '../check-context.js';
import { label, push, pushWithModels } from '../registry-io.js';
import { assert } from 'vitest';

export function listItemsOf(registry: Registry): NonNullable<Registry['listItems']> {
  const listItems = registry.listItems?.bind(registry);
  assert(listItems !== undefined, 'capabilities.listItems is true but the registry has no listItems');
  return listItems;
}

const isCount = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 0;

/**
 * One listing against the item pushed for it: the reference exactly, and each optional field,
 * when present, of its documented type and saying what the pushed metadata says.
 */
function expectListingOf(listing: RegistryListing, item: RegistryPushItem, what: string): void {
  const ref = `${label(item.ref)} in ${what}`;
  assert(listing.kind === item.ref.kind && listing.name === item.ref.name && listing.version === item.ref.version, `${what} gave ${JSON.stringify({ kind: listing.kind, name: listing.name, version: listing.version })} for ${label(item.ref)}`);
  if (listing.creationTime !== undefined) {
    assert(listing.creationTime === item.metadata.creationTime, `${ref}: creationTime is ${String(listing.creationTime)}, expected the item's creation time in microseconds since the epoch, ${item.metadata.creationTime}`);
  }
  assert(listing.size === undefined || isCount(listing.size), `${ref}: size must be a non-negative integer, got ${String(listing.size)}`);
  assert(listing.digest === undefined || (typeof listing.digest === 'string' && listing.digest !== ''), `${ref}: digest must be a non-empty string`);
  assert(listing.module === undefined || typeof listing.module === 'string', `${ref}: module must be a string`);
  if (listing.models !== undefined) {
    const listed = listing.models.map((model) => `${model.name}:${model.version}`).sort();
    const pushed = item.models.map((model) => `${model.ref.name}:${model.ref.version}`).sort();
    assert(JSON.stringify(listed) === JSON.stringify(pushed), `${ref}: models are ${JSON.stringify(listed)}, the pushed bento references ${JSON.stringify(pushed)}`);
  }
  if (listing.document !== undefined) {
    assert(typeof listing.document === 'object' && listing.document !== null, `${ref}: document must be an object`);
    assert(listing.document.name === item.ref.name && listing.document.version === item.ref.version, `${ref}: document is not the item's yaml (its name and version differ)`);
  }
}

function refsOf(listings: readonly RegistryListing[]): string[] {
  return listings.map((listing) => label(listing)).sort();
}

/**
 * `listItems(kind, { name })` gives exactly the name's complete versions (two bentos pushed with
 * their model: both; a push with an aborted signal: not listed), each describing the pushed item;
 * the model is listed under its own kind; without a name both names are among the items; a name
 * never pushed gives an empty array (not ERR_NOT_FOUND).
 */
export async function checkListItems(context: CheckContext): Promise<void> {
  const { registry } = context;
  const listItems = listItemsOf(registry);
  const model = await context.model('list-items-model');
  const first = await context.bento('list-items', [model]);
  await pushWithModels(registry, first);
  const name = first.ref.name;
  const second = await context.bento('list-items', [model], { name });
  await push(registry, second);
  const unfinished = await context.bento('list-items', [model], { name });
  await expectRejects(() => registry.push(unfinished, { signal: AbortSignal.abort() }), 'ERR_ABORTED', `push(${label(unfinished.ref)}) with an aborted signal`);
  const other = await context.bento('list-items-other', [model]);
  await push(registry, other);

  const what = `listItems(bento, { name: ${name} })`;
  const listed = await within(listItems('bento', { name }), what);
  assert(Array.isArray(listed), `${what} did not resolve with an array`);
  const expected = refsOf([first.ref, second.ref]);
  assert(JSON.stringify(refsOf(listed)) === JSON.stringify(expected), `${what} gave ${JSON.stringify(refsOf(listed))}, expected the two complete versions ${JSON.stringify(expected)}`);
  for (const item of [first, second]) expectListingOf(listed.find((listing) => listing.version === item.ref.version) as RegistryListing, item, what);

  if (registry.capabilities.separateModels) {
    const models = await within(listItems('model', { name: model.ref.name }), `listItems(model, { name: ${model.ref.name} })`);
    assert(models.length === 1, `listItems(model, { name: ${model.ref.name} }) gave ${JSON.stringify(refsOf(models))}, expected the one pushed model`);
    expectListingOf(models[0] as RegistryListing, model, `listItems(model, { name: ${model.ref.name} })`);
  }
  const everything = refsOf(await within(listItems('bento'), 'listItems(bento)'));
  for (const ref of [first.ref, second.ref, other.ref]) assert(everything.includes(label(ref)), `listItems(bento) does not list ${label(ref)}`);
  assert(!everything.includes(label(unfinished.ref)), `listItems(bento) lists ${label(unfinished.ref)}, whose push was aborted`);
  const never = await within(listItems('bento', { name: `${name}-never-pushed` }), `listItems(bento, { name: ${name}-never-pushed })`);
  assert(Array.isArray(never) && never.length === 0, `listItems(bento, { name: ${name}-never-pushed }) gave ${JSON.stringify(never)}, expected an empty array`);
}

/** `listItems` with an already-fired signal rejects with ERR_ABORTED. */
export async function checkListItemsAborted({ registry }: CheckContext): Promise<void> {
  await expectRejects(() => listItemsOf(registry)('bento', { signal: AbortSignal.abort() }), 'ERR_ABORTED', 'listItems(bento) with an aborted signal');
}
