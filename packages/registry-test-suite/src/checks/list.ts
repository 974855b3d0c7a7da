import { expectRejects, within } from '../assertions.js';
import type { CheckContext } from '../check-context.js';
import { push } from '../registry-io.js';
import { assert } from 'vitest';

/** `list` gives the versions of a name (two bentos pushed: both, nothing else) and ERR_NOT_FOUND for a name it holds none of. */
export async function checkList(context: CheckContext): Promise<void> {
  const { registry } = context;
  const list = registry.list?.bind(registry);
  assert(list !== undefined, 'the registry has no list');
  const first = await context.bento('list');
  await push(registry, first);
  const name = first.ref.name;
  const again = await context.bento('list', [], { name });
  await push(registry, again);
  const versions = await within(list('bento', name), `list(bento, ${name})`);
  assert(Array.isArray(versions), `list(bento, ${name}) did not resolve with an array`);
  const expected = [first.ref.version, again.ref.version].sort();
  assert(JSON.stringify([...versions].sort()) === JSON.stringify(expected), `list(bento, ${name}) gave ${JSON.stringify(versions)}, expected the two pushed versions ${JSON.stringify(expected)}`);
  await expectRejects(() => list('bento', `${name}-never-pushed`), 'ERR_NOT_FOUND', `list(bento, ${name}-never-pushed)`);
}
