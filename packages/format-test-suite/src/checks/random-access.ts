import { expectSameEntries, recordsFrom, streamOf } from '../archive-io.js';
import type { CheckContext } from '../check-context.js';
import { within } from '../deadline.js';
import { fullTree, recordsOf } from '../sample-tree.js';
import { assert } from 'vitest';

/**
 * Without `randomAccessDecode`, decoding reads `stream()` only: offered `size` and `readRange`
 * too, it never calls `readRange` (core does not have to provide it).
 */
export async function checkStreamingDecode(context: CheckContext): Promise<void> {
  const sample = fullTree(context.format.capabilities);
  const bytes = await context.archive('full');
  let ranges = 0;
  const source = {
    stream: () => streamOf(bytes),
    size: bytes.length,
    readRange: (start: number, end: number) => {
      ranges += 1;
      return streamOf(bytes.subarray(start, end));
    },
  };
  const decoded = await within(recordsFrom(context.format.decode(source, { format: context.token })), 20_000, `decode(${context.token})`);
  expectSameEntries(decoded, recordsOf(sample), `the sample decoded from a stream (${context.token})`);
  assert(ranges === 0, `capabilities.randomAccessDecode is false, yet decode(${context.token}) called readRange ${ranges} times`);
}

/** With `randomAccessDecode`, decoding works through `size` and `readRange` alone: `stream()` is never called. */
export async function checkRandomAccessDecode(context: CheckContext): Promise<void> {
  const sample = fullTree(context.format.capabilities);
  const bytes = await context.archive('full');
  let streams = 0;
  let ranges = 0;
  const source = {
    stream: () => {
      streams += 1;
      return streamOf(bytes);
    },
    size: bytes.length,
    readRange: (start: number, end: number) => {
      ranges += 1;
      assert(start >= 0 && start <= end && end <= bytes.length, `readRange(${start}, ${end}) is outside the ${bytes.length}-byte archive`);
      return streamOf(bytes.subarray(start, end));
    },
  };
  const decoded = await within(recordsFrom(context.format.decode(source, { format: context.token })), 20_000, `decode(${context.token})`);
  expectSameEntries(decoded, recordsOf(sample), `the sample decoded through readRange (${context.token})`);
  assert(streams === 0, `capabilities.randomAccessDecode is true, yet decode(${context.token}) called stream() ${streams} times`);
  assert(ranges > 0, `capabilities.randomAccessDecode is true, yet decode(${context.token}) never called readRange`);
}
