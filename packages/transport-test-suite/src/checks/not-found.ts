import { expectCode } from '../assertions.js';
import type { CheckContext } from '../check-context.js';
import { putObject } from '../stream-helpers.js';

/** "ERR_NOT_FOUND when nothing is at the location" — stat. */
export async function checkStatMissing(context: CheckContext): Promise<void> {
  const location = await context.location('missing-for-stat.bin');
  await expectCode(() => context.transport.stat(location), 'ERR_NOT_FOUND', `stat(${location.display})`);
}

/** "ERR_NOT_FOUND when nothing is at the location" — read rejects; it does not hand back a stream that errors later. */
export async function checkReadMissing(context: CheckContext): Promise<void> {
  const location = await context.location('missing-for-read.bin');
  await expectCode(
    async () => {
      const stream = await context.transport.read(location);
      stream.destroy();
    },
    'ERR_NOT_FOUND',
    `read(${location.display})`,
  );
}

/** "ERR_NOT_FOUND when nothing is at the location" — delete. */
export async function checkDeleteMissing(context: CheckContext): Promise<void> {
  const remove = requireDelete(context);
  const location = await context.location('missing-for-delete.bin');
  await expectCode(() => remove(location), 'ERR_NOT_FOUND', `delete(${location.display})`);
}

/** "Delete the object at the location": afterwards stat finds nothing. */
export async function checkDeleteRemoves(context: CheckContext): Promise<void> {
  const remove = requireDelete(context);
  const location = await context.location('delete-me.bin');
  await putObject(context.transport, location, Buffer.from('to be deleted'));
  await remove(location);
  await expectCode(() => context.transport.stat(location), 'ERR_NOT_FOUND', `stat(${location.display}) after delete`);
}

function requireDelete(context: CheckContext): NonNullable<CheckContext['transport']['delete']> {
  const { transport } = context;
  if (typeof transport.delete !== 'function') throw new TypeError('capabilities.delete is true but delete() is missing');
  return transport.delete.bind(transport);
}
