import { PassThrough, type Readable } from 'node:stream';
import type { ArchiveEntry } from '@bentoport/spec';
import { describeError } from '../assertions.js';
import type { CheckContext } from '../check-context.js';
import { settle } from '../deadline.js';
import { budgetReached, lazyZeroBody, newMeter, type BodyMeter } from '../lazy-body.js';
import { assert } from 'vitest';

/** More than 8 GiB (ustar's and zip's 32-bit limits) and not a round number. */
export const HUGE_SIZE = 9 * 1024 ** 3 + 12_345;
const MiB = 1024 * 1024;
const T = 1_700_000_000;
const TIME_LIMIT_MILLISECONDS = 30_000;

async function* hugeEntries(meter: BodyMeter): AsyncGenerator<ArchiveEntry> {
  yield { path: 'models', type: 'directory', mode: 0o755, mtime: T, size: 0 };
  yield { path: 'models/huge.bin', type: 'file', mode: 0o644, mtime: T, size: HUGE_SIZE, open: () => lazyZeroBody(HUGE_SIZE, meter) };
  yield { path: 'models/after.txt', type: 'file', mode: 0o644, mtime: T, size: 5, open: () => lazyZeroBody(5, meter) };
}

/** The first file entry a decode yields (not opening any body). */
async function firstFile(iterator: AsyncIterator<ArchiveEntry>): Promise<ArchiveEntry | undefined> {
  for (;;) {
    const next = await iterator.next();
    if (next.done) return undefined;
    if (next.value.type === 'file') return next.value;
  }
}

/** Once the body budget is used up, how long the decoder still gets with the live (not ended) stream. */
const GRACE_MILLISECONDS = 2_000;

/**
 * Streaming decoders: decode the encoder's output as it comes. When the encoder has used up its
 * body budget without the decoder yielding the huge entry, the decoder first gets a moment with
 * the live stream, then its input ends with what was emitted so far (a truncated archive): a
 * decoder that holds back a maximal compressed block until more input arrives (bzip2's 900 kB)
 * decodes the header then. Either way it must yield the huge entry with its exact size.
 */
async function expectHugeHeaderDecodes(context: CheckContext, output: Readable, meter: BodyMeter, signal: AbortSignal): Promise<void> {
  const input = new PassThrough();
  output.pipe(input);
  output.once('error', (error) => input.destroy(error));
  const iterator = context.format.decode({ stream: () => input }, { format: context.token, signal })[Symbol.asyncIterator]();
  const decoding = firstFile(iterator);
  const budget = budgetReached(meter, output).then(() => 'budget' as const);
  budget.catch(() => {});
  const what = `decoding the output of encoding a ${HUGE_SIZE}-byte entry (${context.token})`;
  try {
    let outcome = await settle(Promise.race([decoding, budget]), TIME_LIMIT_MILLISECONDS);
    if (outcome.kind === 'value' && outcome.value === 'budget') {
      outcome = await settle(decoding, GRACE_MILLISECONDS);
      if (outcome.kind === 'timeout') {
        output.unpipe(input);
        for (let chunk = output.read() as Buffer | null; chunk !== null; chunk = output.read() as Buffer | null) input.write(chunk);
        input.end();
        outcome = await settle(decoding, TIME_LIMIT_MILLISECONDS);
      }
    }
    if (outcome.kind === 'timeout') assert.fail(`${what}: no entry within ${TIME_LIMIT_MILLISECONDS / 1000} s (${meter.pulled} body bytes pulled)`);
    if (outcome.kind === 'error') assert.fail(`${what} failed before the huge entry's header (${meter.pulled} body bytes pulled): ${describeError(outcome.error)}`);
    const found = outcome.value;
    assert(found !== undefined && found !== 'budget', `${what} gave no file entry`);
    assert(found.path === 'models/huge.bin', `the first file decoded is ${found.path}, not models/huge.bin`);
    assert(found.size === HUGE_SIZE, `models/huge.bin decodes with size ${found.size}, but it was encoded with ${HUGE_SIZE}`);
  } finally {
    input.destroy();
    void iterator.return?.().catch(() => {});
  }
}

/** Random-access decoders need the archive's end, which only exists after 9 GiB: check the encoder starts the body. */
async function expectHugeBodyStarts(context: CheckContext, output: Readable, meter: BodyMeter): Promise<void> {
  output.resume();
  // Reaching the meter's budget shows the encoder took the entry and reads its body on demand.
  const outcome = await settle(budgetReached(meter, output), TIME_LIMIT_MILLISECONDS);
  const what = `encoding a ${HUGE_SIZE}-byte entry (${context.token})`;
  if (outcome.kind === 'timeout') assert.fail(`${what}: the body was not read within ${TIME_LIMIT_MILLISECONDS / 1000} s (${meter.pulled} bytes pulled)`);
  if (outcome.kind === 'error') assert.fail(`${what} failed: ${describeError(outcome.error)}`);
}

/**
 * A file entry of more than 8 GiB is representable, without sending 8 GiB: its body is generated
 * only as the encoder reads it. For a streaming decoder, what the encoder emitted until it had
 * read 8 MiB of the body (plus `readAheadBytes`) must decode to the huge entry with its exact
 * size. For a random-access decoder (whose index is at the end), the encoder must accept the
 * entry and read its body.
 */
export async function checkHugeEntry(context: CheckContext): Promise<void> {
  // The body stalls at the cutoff: 8 MiB (plus what the format declares it reads ahead) is
  // enough for any encoder to have written the header, and a runaway encoder stops there.
  const meter = newMeter(8 * MiB + context.readAheadBytes);
  const controller = new AbortController();
  let output: Readable | undefined;
  try {
    output = context.format.encode(hugeEntries(meter), { format: context.token, signal: controller.signal });
  } catch (error) {
    assert.fail(`encode(${context.token}) of a ${HUGE_SIZE}-byte entry threw ${describeError(error)}`);
  }
  try {
    if (context.format.capabilities.randomAccessDecode) await expectHugeBodyStarts(context, output, meter);
    else await expectHugeHeaderDecodes(context, output, meter, controller.signal);
  } finally {
    controller.abort();
    output.destroy();
  }
}
