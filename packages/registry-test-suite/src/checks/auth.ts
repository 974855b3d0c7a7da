import type { Registry } from '@bentoport/spec';
import { expectRejects } from '../assertions.js';
import type { CheckContext } from '../check-context.js';
import { firstNext, label } from '../registry-io.js';
import { listItemsOf } from './list-items.js';
import { assert } from 'vitest';

function refused(context: CheckContext): Registry {
  const registry = context.badCredentials;
  assert(registry !== undefined, 'no badCredentials registry was given');
  return registry;
}

/** An ERR_AUTH message names no secret (the suite's `secrets`). */
function expectRedacted(context: CheckContext, error: Error, what: string): void {
  for (const secret of context.secrets) assert(!error.message.includes(secret), `${what}: the message shows a secret: ${error.message}`);
}

/** With refused credentials, `has` rejects with ERR_AUTH (not false, not ERR_NOT_FOUND), its message free of secrets. */
export async function checkAuthHas(context: CheckContext): Promise<void> {
  const model = await context.model('auth-has');
  const what = `has(${label(model.ref)}) with refused credentials`;
  expectRedacted(context, await expectRejects(() => refused(context).has(model.ref), 'ERR_AUTH', what), what);
}

/** With refused credentials, `push` rejects with ERR_AUTH, its message free of secrets. */
export async function checkAuthPush(context: CheckContext): Promise<void> {
  const model = await context.model('auth-push');
  const what = `push(${label(model.ref)}) with refused credentials`;
  expectRedacted(context, await expectRejects(() => refused(context).push(model), 'ERR_AUTH', what), what);
}

/** With refused credentials, the first `next()` of `pull` rejects with ERR_AUTH, its message free of secrets. */
export async function checkAuthPull(context: CheckContext): Promise<void> {
  const model = await context.model('auth-pull');
  const what = `the first next() of pull(${label(model.ref)}) with refused credentials`;
  expectRedacted(context, await expectRejects(() => firstNext(refused(context), model.ref), 'ERR_AUTH', what), what);
}

/** With refused credentials, `listItems` rejects with ERR_AUTH (not an empty array), its message free of secrets. */
export async function checkAuthListItems(context: CheckContext): Promise<void> {
  const what = 'listItems(bento) with refused credentials';
  expectRedacted(context, await expectRejects(() => listItemsOf(refused(context))('bento'), 'ERR_AUTH', what), what);
}
