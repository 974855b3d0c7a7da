import type { ArchiveEntry } from '@bentoport/spec';
import { describeError } from '../assertions.js';
import type { CheckContext } from '../check-context.js';
import { settle } from '../deadline.js';
import { budgetReached, lazyZeroBody, newMeter, type BodyMeter } from '../lazy-body.js';
import { readAheadLimit } from './read-ahead.js';
import { assert } from 'vitest';

const MiB = 1024 * 1024;
const FILES = 6;
const FILE_SIZE = 16 * MiB;
const T = 1_700_000_000;

async function* bigFiles(meter: BodyMeter): AsyncGenerator<ArchiveEntry> {
  for (let index = 0; index < FILES; index++) {
    yield { path: `part-${index}.bin`, type: 'file', mode: 0o644, mtime: T, size: FILE_SIZE, open: () => lazyZeroBody(FILE_SIZE, meter) };
  }
}

/** Wait until the meter has not moved for `quietMilliseconds` (the encoder has stopped), at most `maxMilliseconds`. */
async function pullSettled(meter: BodyMeter, limit: number, quietMilliseconds: number, maxMilliseconds: number): Promise<void> {
  const started = Date.now();
  let last = meter.pulled;
  let lastChange = Date.now();
  while (Date.now() - started < maxMilliseconds && meter.pulled <= limit) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (meter.pulled !== last) {
      last = meter.pulled;
      lastChange = Date.now();
    } else if (Date.now() - lastChange >= quietMilliseconds) return;
  }
}

/**
 * The encoder does not read bodies far ahead of a slow consumer: with 96 MiB of bodies to encode
 * and a consumer that took one chunk and stopped, the bodies are pulled no further than the
 * read-ahead allowance (16 MiB plus `readAheadBytes`).
 */
export async function checkEncoderBackpressure(context: CheckContext): Promise<void> {
  const limit = readAheadLimit(context.readAheadBytes);
  // Bodies stall just past the limit, so an encoder that reads everything is caught without pumping 96 MiB.
  const meter = newMeter(limit + 1024 * 1024);
  const controller = new AbortController();
  const output = context.format.encode(bigFiles(meter), { format: context.token, signal: controller.signal });
  const iterator = output[Symbol.asyncIterator]();
  try {
    const first = await settle(
      Promise.race([
        iterator.next().then((next) => ({ ended: next.done === true })),
        budgetReached(meter, output).then(() => ({ overpulled: true }) as const),
      ]),
      20_000,
    );
    if (first.kind === 'timeout') assert.fail(`the encoder (${context.token}) produced nothing within 20 s`);
    if (first.kind === 'error') assert.fail(`encoding (${context.token}) failed before its first chunk: ${describeError(first.error)}`);
    assert(!('overpulled' in first.value), `the encoder (${context.token}) pulled ${meter.pulled} bytes of the ${FILES * FILE_SIZE} bytes of bodies before its first output chunk (limit ${limit})`);
    assert(!('ended' in first.value && first.value.ended), `the encoder (${context.token}) ended without output`);
    await pullSettled(meter, limit, 400, 4_000);
    assert(
      meter.pulled <= limit,
      `after the consumer took one chunk and stopped, the encoder (${context.token}) pulled ${meter.pulled} bytes of the ${FILES * FILE_SIZE} bytes of bodies (limit ${limit}); declare deliberate read-ahead with readAheadBytes`,
    );
  } finally {
    controller.abort();
    output.destroy();
    void iterator.return?.().catch(() => {});
  }
}
