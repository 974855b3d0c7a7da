import type { TransportListEntry } from '@bentoport/spec';
import { check, expectCode } from '../assertions.js';
import type { CheckContext } from '../check-context.js';
import { putObject } from '../stream-helpers.js';

function requireList(context: CheckContext): NonNullable<CheckContext['transport']['list']> {
  const { transport } = context;
  if (typeof transport.list !== 'function') throw new TypeError('capabilities.list is true but list() is missing');
  return transport.list.bind(transport);
}

/** "List the entries under a directory location": committed files appear with their name, type and size. */
export async function checkListCommitted(context: CheckContext): Promise<void> {
  const list = requireList(context);
  const files = new Map([
    ['list-a.bin', Buffer.from('a')],
    ['list-b.bin', Buffer.alloc(2000, 0x62)],
  ]);
  for (const [name, data] of files) await putObject(context.transport, await context.location(name), data);
  const root = await context.location('');
  const entries = await list(root);
  check(Array.isArray(entries), `list(${root.display}) must resolve with an array`);
  for (const [name, data] of files) {
    const entry: TransportListEntry | undefined = entries.find((candidate) => candidate.name === name);
    check(entry !== undefined, `list(${root.display}) lacks ${name}; got ${entries.map((e) => e.name).join(', ')}`);
    check(entry.type === 'file', `list entry ${name} has type ${entry.type}, expected file`);
    check(entry.size === data.length, `list entry ${name} has size ${entry.size}, expected ${data.length}`);
  }
}

/** "ERR_NOT_FOUND when the directory does not exist". */
export async function checkListMissing(context: CheckContext): Promise<void> {
  const list = requireList(context);
  const location = await context.location('list-missing-directory');
  await expectCode(() => list(location), 'ERR_NOT_FOUND', `list(${location.display})`);
}
