import type { TransportReadOptions } from '@bentoport/spec';
import { expectSameBytes } from '../assertions.js';
import type { CheckContext } from '../check-context.js';
import { seededBytes } from '../seeded-bytes.js';
import { getObject, putObject } from '../stream-helpers.js';

/** `start` is the first byte, `end` one past the last: start only, start+end, end at size, a zero-length range, end only. */
export async function checkRangedReads(context: CheckContext): Promise<void> {
  const { transport } = context;
  const location = await context.location('ranged.bin');
  const data = seededBytes(200_017, 11);
  await putObject(transport, location, data);
  const size = data.length;
  const cases: TransportReadOptions[] = [
    { start: 100 },
    { start: 100, end: 1100 },
    { start: size - 500, end: size },
    { start: 70_000, end: 70_000 },
    { end: 10 },
    { start: 0, end: 1 },
  ];
  for (const range of cases) {
    const expected = data.subarray(range.start ?? 0, range.end ?? size);
    const actual = await getObject(transport, location, range);
    expectSameBytes(actual, expected, `read(${location.display}, ${JSON.stringify(range)})`);
  }
}
