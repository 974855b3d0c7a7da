import { describeError, expectCoded } from '../assertions.js';
import type { CheckContext } from '../check-context.js';
import { sourceFor } from '../archive-io.js';
import { plainTree, entriesOf } from '../sample-tree.js';
import { decodeOutcome, encodeOutcome } from '../stream-outcome.js';
import { assert } from 'vitest';

const UNKNOWN_TOKEN = 'bentoport-no-such-format';

/** `encode` with a token not in `formats` → ERR_UNSUPPORTED_FORMAT, thrown at once or as the stream's error. */
export async function checkEncodeUnknownToken({ format }: CheckContext): Promise<void> {
  const outcome = await encodeOutcome(() => format.encode(entriesOf(plainTree()), { format: UNKNOWN_TOKEN }), 10_000);
  const what = `encode(${UNKNOWN_TOKEN})`;
  assert(outcome.kind !== 'timeout', `${what} neither failed nor ended within 10 s`);
  assert(outcome.kind === 'error', `${what} produced ${outcome.kind === 'end' ? outcome.bytes.length : 0} bytes instead of failing`);
  expectCoded(outcome.error, 'ERR_UNSUPPORTED_FORMAT', what);
}

/** `decode` with a token not in `formats` → ERR_UNSUPPORTED_FORMAT, thrown at once or by the first `next()`. */
export async function checkDecodeUnknownToken({ format }: CheckContext): Promise<void> {
  const what = `decode(${UNKNOWN_TOKEN})`;
  const outcome = await decodeOutcome(() => format.decode(sourceFor(format, Buffer.alloc(1024)), { format: UNKNOWN_TOKEN }), 10_000);
  assert(outcome.kind !== 'timeout', `${what} neither failed nor ended within 10 s`);
  assert(outcome.kind === 'error', `${what} ended normally with ${outcome.entries} entries instead of failing`);
  assert(outcome.entries === 0, `${what} yielded ${outcome.entries} entries before failing with ${describeError(outcome.error)}`);
  expectCoded(outcome.error, 'ERR_UNSUPPORTED_FORMAT', what);
}
