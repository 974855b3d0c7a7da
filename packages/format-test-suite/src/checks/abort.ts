import { Readable } from 'node:stream';
import type { ArchiveEntry, ArchiveSource, Format } from '@bentoport/spec';
import { describeError, expectCoded } from '../assertions.js';
import { encodeToBytes, sourceFor } from '../archive-io.js';
import type { CheckContext } from '../check-context.js';
import { settle } from '../deadline.js';
import { lazyZeroBody, newMeter, type BodyMeter } from '../lazy-body.js';
import { entriesOf, plainTree } from '../sample-tree.js';
import { decodeOutcome, encodeOutcome, readToEnd } from '../stream-outcome.js';
import { assert } from 'vitest';

const MiB = 1024 * 1024;
const T = 1_700_000_000;
/** How long a fired signal may take to end an operation. */
const ABORT_MILLISECONDS = 10_000;

async function* zeroFiles(meter: BodyMeter, count: number, size: number): AsyncGenerator<ArchiveEntry> {
  for (let index = 0; index < count; index++) {
    yield { path: `zeros-${index}.bin`, type: 'file', mode: 0o644, mtime: T, size, open: () => lazyZeroBody(size, meter) };
  }
}

/** `encode` with an aborted signal → ERR_ABORTED, thrown at once or as the stream's error; never a normal end. */
export async function checkEncodeAbortedSignal(context: CheckContext): Promise<void> {
  const what = `encode(${context.token}) with an aborted signal`;
  const outcome = await encodeOutcome(() => context.format.encode(entriesOf(plainTree()), { format: context.token, signal: AbortSignal.abort() }), ABORT_MILLISECONDS);
  assert(outcome.kind !== 'timeout', `${what} neither failed nor ended within ${ABORT_MILLISECONDS / 1000} s`);
  assert(outcome.kind === 'error', `${what} produced a whole archive of ${outcome.kind === 'end' ? outcome.bytes.length : 0} bytes`);
  expectCoded(outcome.error, 'ERR_ABORTED', what);
}

/** The signal firing mid-encode (64 MiB of bodies, one chunk read) errors the stream with ERR_ABORTED within 10 s. */
export async function checkEncodeSignalMidStream(context: CheckContext): Promise<void> {
  const meter = newMeter();
  const controller = new AbortController();
  const output = context.format.encode(zeroFiles(meter, 4, 16 * MiB), { format: context.token, signal: controller.signal });
  const what = `encode(${context.token}) after its signal fired`;
  try {
    const first = await settle(
      new Promise<void>((resolve, reject) => {
        output.once('data', () => resolve());
        output.once('error', reject);
      }),
      20_000,
    );
    if (first.kind === 'timeout') assert.fail(`encode(${context.token}) produced nothing within 20 s`);
    if (first.kind === 'error') assert.fail(`encode(${context.token}) failed before its signal fired: ${describeError(first.error)}`);
    output.pause();
    controller.abort(new Error('conformance suite: abort mid-encode'));
    const outcome = await readToEnd(output, ABORT_MILLISECONDS);
    assert(outcome.kind !== 'timeout', `${what} went on for ${ABORT_MILLISECONDS / 1000} s without failing`);
    assert(outcome.kind === 'error', `${what} ended normally: the signal was ignored`);
    expectCoded(outcome.error, 'ERR_ABORTED', what);
  } finally {
    output.destroy();
  }
}

/** `decode` with an aborted signal → ERR_ABORTED, thrown at once or by the first `next()`, before any entry. */
export async function checkDecodeAbortedSignal(context: CheckContext): Promise<void> {
  const bytes = await context.archive('plain');
  const what = `decode(${context.token}) with an aborted signal`;
  const outcome = await decodeOutcome(() => context.format.decode(sourceFor(context.format, bytes), { format: context.token, signal: AbortSignal.abort() }), ABORT_MILLISECONDS);
  assert(outcome.kind !== 'timeout', `${what} neither failed nor ended within ${ABORT_MILLISECONDS / 1000} s`);
  assert(outcome.kind === 'error', `${what} decoded all ${outcome.entries} entries: the signal was ignored`);
  assert(outcome.entries === 0, `${what} yielded ${outcome.entries} entries before failing`);
  expectCoded(outcome.error, 'ERR_ABORTED', what);
}

/**
 * The signal firing while a body is being read ends the decode with ERR_ABORTED within 10 s: from
 * the body stream, or from the next `next()` (a 1 MiB body, then another file).
 */
export async function checkDecodeSignalMidBody(context: CheckContext): Promise<void> {
  const bytes = await encodeToBytes(context, zeroFiles(newMeter(), 2, MiB));
  const controller = new AbortController();
  const what = `decode(${context.token}) after its signal fired mid-body`;
  const iterator = context.format.decode(sourceFor(context.format, bytes), { format: context.token, signal: controller.signal })[Symbol.asyncIterator]();
  try {
    const outcome = await settle(
      (async () => {
        const first = await iterator.next();
        assert(first.done !== true && first.value.open !== undefined, `decode(${context.token}) gave no file entry with a body`);
        const body = first.value.open();
        const chunks = body[Symbol.asyncIterator]();
        await chunks.next();
        controller.abort(new Error('conformance suite: abort mid-decode'));
        for (;;) if ((await chunks.next()).done) break;
        while (!(await iterator.next()).done) {
          // Further entries: an honoured signal never lets the iteration get to its end.
        }
      })(),
      ABORT_MILLISECONDS + 20_000,
    );
    assert(outcome.kind !== 'timeout', `${what} neither failed nor ended`);
    assert(outcome.kind === 'error', `${what} completed: the signal was ignored`);
    if (outcome.error instanceof Error && outcome.error.name === 'AssertionError') throw outcome.error;
    expectCoded(outcome.error, 'ERR_ABORTED', what);
  } finally {
    void iterator.return?.().catch(() => {});
  }
}

/** A source that delivers its first `stallAt` bytes, then neither delivers more nor ends: a hung connection. */
function stalledSource(format: Format, bytes: Buffer, stallAt: number): ArchiveSource {
  const stalled = (start: number, end: number): Readable => {
    let offset = start;
    return new Readable({
      read() {
        const until = Math.min(end, stallAt);
        if (offset >= until) return; // never push again: the stall
        const chunk = Buffer.from(bytes.subarray(offset, Math.min(until, offset + 64 * 1024)));
        offset += chunk.length;
        this.push(chunk);
      },
    });
  };
  const source: ArchiveSource = { stream: () => stalled(0, bytes.length) };
  if (format.capabilities.randomAccessDecode) {
    source.size = bytes.length;
    source.readRange = (start, end) => stalled(start, end);
  }
  return source;
}

/**
 * The signal ends a decode that waits on a stalled source (half the archive delivered, then
 * nothing): ERR_ABORTED within 10 s of the signal, no hang.
 */
export async function checkDecodeSignalStalledSource(context: CheckContext): Promise<void> {
  const bytes = await context.archive('plain');
  const controller = new AbortController();
  const what = `decode(${context.token}) of a stalled source after its signal fired`;
  const running = decodeOutcome(
    () => context.format.decode(stalledSource(context.format, bytes, Math.floor(bytes.length / 2)), { format: context.token, signal: controller.signal }),
    ABORT_MILLISECONDS + 500,
  );
  const early = await settle(running, 500);
  if (early.kind === 'value') {
    const ended = early.value;
    assert.fail(`decode(${context.token}) of a stalled source ${ended.kind === 'error' ? `failed before the signal fired: ${describeError(ended.error)}` : `ended after ${ended.entries} entries although half the archive never came`}`);
  }
  controller.abort(new Error('conformance suite: abort while the source stalls'));
  const outcome = await running;
  assert(outcome.kind !== 'timeout', `${what} still waits on the source ${ABORT_MILLISECONDS / 1000} s later`);
  assert(outcome.kind === 'error', `${what} ended normally`);
  expectCoded(outcome.error, 'ERR_ABORTED', what);
}
