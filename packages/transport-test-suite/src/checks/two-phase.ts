import { check, expectCode, expectSameBytes, fail } from '../assertions.js';
import type { CheckContext } from '../check-context.js';
import { addedNames, entryNames } from '../listing.js';
import { seededBytes } from '../seeded-bytes.js';
import { getObject, putObject, startWrite, writeAndFinish, writeChunks } from '../stream-helpers.js';

async function expectAbortNeverThrows(abort: () => Promise<void>, what: string): Promise<void> {
  try {
    await abort();
  } catch (error) {
    fail(`${what} threw (${String(error)}), but the contract says abort never throws`);
  }
}

/**
 * "abort removes every trace": abort mid-stream and after the stream finished both leave no object
 * and (when the transport lists) no new entry — temp files included — in the parent directory.
 */
export async function checkAbortLeavesNothing(context: CheckContext): Promise<void> {
  const { transport } = context;
  const root = await context.location('');
  const before = await entryNames(transport, root);

  const midStream = await context.location('abort-mid-stream.bin');
  const writer = await startWrite(transport, midStream);
  await writeChunks(writer.stream, seededBytes(256 * 1024, 4));
  await expectAbortNeverThrows(() => writer.abort(new Error('test abort')), 'abort() mid-stream');
  await expectAbortNeverThrows(() => writer.abort(), 'a second abort()');
  await expectCode(() => transport.stat(midStream), 'ERR_NOT_FOUND', `stat(${midStream.display}) after abort`);

  const finished = await context.location('abort-after-finish.bin');
  const second = await startWrite(transport, finished);
  await writeAndFinish(second.stream, seededBytes(100 * 1024, 5));
  await expectAbortNeverThrows(() => second.abort(), 'abort() after the stream finished');
  await expectCode(() => transport.stat(finished), 'ERR_NOT_FOUND', `stat(${finished.display}) after abort`);

  const leftovers = addedNames(before, await entryNames(transport, root));
  check(leftovers.length === 0, `abort() left entries in ${root.display}: ${leftovers.join(', ')}`);
}

/** Aborting a write over an existing object keeps the old content. */
export async function checkAbortKeepsOldContent(context: CheckContext): Promise<void> {
  const { transport } = context;
  const location = await context.location('abort-overwrite.bin');
  const old = seededBytes(10_000, 6);
  await putObject(transport, location, old);
  const writer = await startWrite(transport, location);
  await writeAndFinish(writer.stream, seededBytes(20_000, 7));
  await expectAbortNeverThrows(() => writer.abort(), 'abort() of an overwrite');
  expectSameBytes(await getObject(transport, location), old, `${location.display} after an aborted overwrite`);
}

/**
 * "Bytes written to `stream` stay invisible at the location until `commit` resolves", all at once
 * where `capabilities.atomicCommit`: a new object is not found (nor listed) before commit.
 */
export async function checkCommitAtomicNew(context: CheckContext): Promise<void> {
  const { transport } = context;
  const root = await context.location('');
  const location = await context.location('atomic-new.bin');
  const name = 'atomic-new.bin';
  const data = seededBytes(1024 * 1024, 8);
  const writer = await startWrite(transport, location, { sizeHint: data.length });
  try {
    await writeAndFinish(writer.stream, data);
    await expectCode(() => transport.stat(location), 'ERR_NOT_FOUND', `stat(${location.display}) before commit`);
    check(!(await entryNames(transport, root)).has(name), `${name} is listed in ${root.display} before commit`);
    await writer.commit();
  } catch (error) {
    await writer.abort(error);
    throw error;
  }
  expectSameBytes(await getObject(transport, location), data, `${location.display} after commit`);
}

/** Before commit an overwrite leaves the old content readable and unchanged; after commit the new one is there. */
export async function checkCommitAtomicOverwrite(context: CheckContext): Promise<void> {
  const { transport } = context;
  const location = await context.location('atomic-overwrite.bin');
  const old = seededBytes(300_000, 9);
  const replacement = seededBytes(200_000, 10);
  await putObject(transport, location, old);
  const writer = await startWrite(transport, location, { sizeHint: replacement.length });
  try {
    await writeAndFinish(writer.stream, replacement);
    expectSameBytes(await getObject(transport, location), old, `${location.display} before commit`);
    const stat = await transport.stat(location);
    check(stat.size === old.length, `stat(${location.display}).size before commit is ${stat.size}, expected the old ${old.length}`);
    await writer.commit();
  } catch (error) {
    await writer.abort(error);
    throw error;
  }
  expectSameBytes(await getObject(transport, location), replacement, `${location.display} after commit`);
}
