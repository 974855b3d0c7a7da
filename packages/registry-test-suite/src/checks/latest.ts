import type { RegistryPushItem } from '@bentoport/spec';
import { expectRejects, within } from '../assertions.js';
import type { CheckContext } from '../check-context.js';
import { push } from '../registry-io.js';
import { assert } from 'vitest';

/** One minute later than `item`: the metadata a registry reads the creation time from (yaml files stay as they are). */
function createdLater(item: RegistryPushItem): RegistryPushItem {
  const creationTime = item.metadata.creationTime + 60_000_000;
  return { ...item, metadata: { ...item.metadata, creationTime, creationTimeText: new Date(creationTime / 1000).toISOString() } };
}

/**
 * `latest` names the version created last (two versions pushed, the newer second, so creation
 * order and push order agree whichever a registry goes by), and rejects with ERR_NOT_FOUND for a
 * name it holds none of.
 */
export async function checkLatest(context: CheckContext): Promise<void> {
  const { registry } = context;
  const latest = registry.latest?.bind(registry);
  assert(latest !== undefined, 'capabilities.latestVersion is true but the registry has no latest');
  const first = await context.bento('latest');
  await push(registry, first);
  const name = first.ref.name;
  const second = createdLater(await context.bento('latest', [], { name }));
  await push(registry, second);
  const version = await within(latest('bento', name), `latest(bento, ${name})`);
  assert(version === second.ref.version, `latest(bento, ${name}) gave ${JSON.stringify(version)}, expected the version created last, ${second.ref.version} (the other is ${first.ref.version})`);
  await expectRejects(() => latest('bento', `${name}-never-pushed`), 'ERR_NOT_FOUND', `latest(bento, ${name}-never-pushed)`);
}
