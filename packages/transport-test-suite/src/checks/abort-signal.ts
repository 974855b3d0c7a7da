import { check, expectCode, expectErrorCode, fail } from '../assertions.js';
import type { CheckContext } from '../check-context.js';
import { addedNames, entryNames } from '../listing.js';
import { seededBytes } from '../seeded-bytes.js';
import { outcomeOf, putObject, writeChunks } from '../stream-helpers.js';

/** "an aborted signal → ERR_ABORTED": read with an already-aborted signal rejects. */
export async function checkReadAbortedSignal(context: CheckContext): Promise<void> {
  const location = await context.location('aborted-read.bin');
  await putObject(context.transport, location, Buffer.from('present'));
  await expectCode(
    async () => {
      const stream = await context.transport.read(location, { signal: AbortSignal.abort() });
      stream.destroy();
    },
    'ERR_ABORTED',
    `read(${location.display}) with an aborted signal`,
  );
}

/** "an aborted signal → ERR_ABORTED": write with an already-aborted signal rejects and creates nothing. */
export async function checkWriteAbortedSignal(context: CheckContext): Promise<void> {
  const { transport } = context;
  const location = await context.location('aborted-write.bin');
  await expectCode(
    async () => {
      const writer = await transport.write(location, { signal: AbortSignal.abort() });
      await writer.abort();
    },
    'ERR_ABORTED',
    `write(${location.display}) with an aborted signal`,
  );
  await expectCode(() => transport.stat(location), 'ERR_NOT_FOUND', `stat(${location.display}) after an aborted write`);
}

/** The signal firing mid-write aborts the write: commit rejects with ERR_ABORTED and nothing is left behind. */
export async function checkWriteSignalMidStream(context: CheckContext): Promise<void> {
  const { transport } = context;
  const root = await context.location('');
  const before = await entryNames(transport, root);
  const location = await context.location('signal-mid-write.bin');
  const controller = new AbortController();
  const writer = await transport.write(location, { signal: controller.signal });
  writer.stream.on('error', () => {});
  await writeChunks(writer.stream, seededBytes(256 * 1024, 12));
  controller.abort(new Error('test abort'));
  await expectCode(() => writer.commit(), 'ERR_ABORTED', `commit() after the write's signal fired`);
  try {
    await writer.abort();
  } catch (error) {
    fail(`abort() after the signal fired threw (${String(error)}), but the contract says abort never throws`);
  }
  await expectCode(() => transport.stat(location), 'ERR_NOT_FOUND', `stat(${location.display}) after the signal fired`);
  const leftovers = addedNames(before, await entryNames(transport, root));
  check(leftovers.length === 0, `an aborted write left entries in ${root.display}: ${leftovers.join(', ')}`);
}

/** The signal firing mid-read destroys the stream with ERR_ABORTED (not a silent end). */
export async function checkReadSignalMidStream(context: CheckContext): Promise<void> {
  const { transport } = context;
  const location = await context.location('signal-mid-read.bin');
  await putObject(transport, location, seededBytes(4 * 1024 * 1024, 13));
  const controller = new AbortController();
  const stream = await transport.read(location, { signal: controller.signal });
  const outcome = outcomeOf(stream, 10_000);
  await new Promise<void>((resolve) => {
    stream.once('data', () => {
      stream.pause();
      resolve();
    });
  });
  controller.abort(new Error('test abort'));
  const { error, ended, timedOut } = await outcome;
  stream.destroy();
  if (timedOut) fail('the read stream neither errored nor closed within 10 s of its signal firing');
  if (ended) fail('the read stream ended normally although its signal fired mid-read');
  if (error === undefined) fail('the read stream closed without an error when its signal fired; the contract says ERR_ABORTED');
  expectErrorCode(error, 'ERR_ABORTED', 'the read stream error after its signal fired');
}
