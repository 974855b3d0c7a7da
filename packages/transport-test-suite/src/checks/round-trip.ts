import { check, expectSameBytes } from '../assertions.js';
import type { CheckContext } from '../check-context.js';
import { seededBytes } from '../seeded-bytes.js';
import { getObject, putObject, startWrite, writeAndFinish } from '../stream-helpers.js';

async function roundTrip(context: CheckContext, name: string, data: Buffer, chunkSize?: number): Promise<void> {
  const { transport } = context;
  const location = await context.location(name);
  const writer = await startWrite(transport, location, { sizeHint: data.length });
  await writeAndFinish(writer.stream, data, chunkSize);
  await writer.commit();
  expectSameBytes(await getObject(transport, location), data, `reading back ${location.display}`);
  const stat = await transport.stat(location);
  check(stat.type === 'file', `stat(${location.display}).type is ${stat.type}, expected file`);
  check(stat.size === data.length, `stat(${location.display}).size is ${stat.size}, expected ${data.length}`);
  if (stat.mtime !== undefined) {
    check(stat.mtime instanceof Date && !Number.isNaN(stat.mtime.getTime()), 'stat().mtime, when given, must be a valid Date');
  }
  if (stat.etag !== undefined) check(typeof stat.etag === 'string', 'stat().etag, when given, must be a string');
}

/** Write + commit a few bytes, then read back the same bytes; stat reports a file of that size. */
export async function checkRoundTripSmall(context: CheckContext): Promise<void> {
  await roundTrip(context, 'round-trip-small.txt', Buffer.from('bentoport conformance: hello\n'));
}

/** An empty object round-trips and stats as size 0. */
export async function checkRoundTripEmpty(context: CheckContext): Promise<void> {
  await roundTrip(context, 'round-trip-empty.bin', Buffer.alloc(0));
}

/** A few MiB of seeded pseudo-random bytes, written in odd-sized chunks, round-trip exactly. */
export async function checkRoundTripLarge(context: CheckContext): Promise<void> {
  await roundTrip(context, 'round-trip-large.bin', seededBytes(5 * 1024 * 1024 + 123, 1), 100_003);
}

/** "An existing object is replaced on commit": a shorter object over a longer one leaves only the new bytes. */
export async function checkOverwriteReplaces(context: CheckContext): Promise<void> {
  const { transport } = context;
  const location = await context.location('overwrite.bin');
  const first = seededBytes(64 * 1024, 2);
  const second = seededBytes(1000, 3);
  await putObject(transport, location, first);
  const before = await transport.stat(location);
  await putObject(transport, location, second);
  expectSameBytes(await getObject(transport, location), second, `reading ${location.display} after overwriting it`);
  const after = await transport.stat(location);
  check(after.size === second.length, `stat().size after overwrite is ${after.size}, expected ${second.length}`);
  if (before.etag !== undefined && after.etag !== undefined) {
    check(before.etag !== after.etag, `stat().etag did not change when the content did (${after.etag})`);
  }
}
