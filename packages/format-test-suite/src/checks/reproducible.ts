import { encodeToBytes } from '../archive-io.js';
import type { CheckContext } from '../check-context.js';
import { entriesOf, fullTree } from '../sample-tree.js';
import { assert } from 'vitest';

/** Run `operation` in another time zone: a format writing local times would change its bytes. */
async function inTimeZone<T>(zone: string, operation: () => Promise<T>): Promise<T> {
  const previous = process.env.TZ;
  process.env.TZ = zone;
  try {
    return await operation();
  } finally {
    if (previous === undefined) delete process.env.TZ;
    else process.env.TZ = previous;
  }
}

/**
 * "The same entries always encode to the same bytes": twice, with bodies cut into different
 * chunks, in another time zone and a moment later, and the bytes are identical.
 */
export async function checkReproducible(context: CheckContext): Promise<void> {
  const sample = fullTree(context.format.capabilities);
  const first = await context.archive('full');
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const second = await inTimeZone('Pacific/Kiritimati', () => encodeToBytes(context, entriesOf(sample, 'jagged')));
  if (first.equals(second)) return;
  let offset = 0;
  while (first[offset] === second[offset]) offset++;
  assert(false, `the same entries encoded (${context.token}) to different bytes: ${first.length} and ${second.length} bytes, first difference at offset ${offset}`);
}
