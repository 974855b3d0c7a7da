import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { check, fail } from '../assertions.js';
import type { CheckContext } from '../check-context.js';
import { seededBytes } from '../seeded-bytes.js';
import { drained, letEventLoopRun, putObject, startWrite } from '../stream-helpers.js';

const MiB = 1024 * 1024;
/** What a stream may hold beyond twice its high-water mark: one chunk as large as a socket or file read. */
const ONE_CHUNK = 64 * 1024;
const SETTLE_MILLISECONDS = 200;

/**
 * Bytes the stream has handed out (via 'data' while we claimed to be paused) plus bytes it holds.
 * Neither may exceed about twice the high-water mark: a transport that reads the whole object
 * into the stream (ignoring `push()` returning false) fails here.
 */
function pulledAhead(stream: Readable, emittedSincePause: number): number {
  return emittedSincePause + stream.readableLength;
}

/** "a stream that honours backpressure": an unread 16 MiB object does not pile up in memory. */
export async function checkReadBackpressure(context: CheckContext): Promise<void> {
  const { transport } = context;
  const location = await context.location('backpressure-read.bin');
  await putObject(transport, location, seededBytes(16 * MiB, 14));
  const stream = await transport.read(location);
  stream.on('error', () => {});
  let emitted = 0;
  let onTarget: { bytes: number; reached: () => void } | undefined;
  stream.on('data', (chunk: Uint8Array) => {
    emitted += chunk.length;
    if (onTarget !== undefined && emitted >= onTarget.bytes) {
      stream.pause();
      onTarget.reached();
      onTarget = undefined;
    }
  });
  stream.pause();
  try {
    const highWaterMark = Math.max(stream.readableHighWaterMark, context.highWaterMark ?? 0);
    const limit = 2 * highWaterMark + Math.max(highWaterMark, ONE_CHUNK);
    const explain = `(readableHighWaterMark ${stream.readableHighWaterMark}, limit ${limit})`;

    await letEventLoopRun(SETTLE_MILLISECONDS);
    const unread = pulledAhead(stream, emitted);
    check(unread <= limit, `a paused read stream delivered or buffered ${unread} bytes nobody asked for ${explain}`);

    // Consume some, then stop again: the stream may refill up to its mark, not run ahead.
    const consumed = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the read stream delivered less than 1 MiB in 10 s')), 10_000);
      onTarget = {
        bytes: emitted + MiB,
        reached: () => {
          clearTimeout(timer);
          resolve(emitted);
        },
      };
      stream.resume();
    });
    await letEventLoopRun(SETTLE_MILLISECONDS);
    const refilled = pulledAhead(stream, emitted - consumed);
    check(refilled <= limit, `after pausing again the read stream delivered or buffered ${refilled} bytes ${explain}`);
  } finally {
    stream.destroy();
  }
}

/** The writer stream's `write()` returns false once about its high-water mark is buffered, and then drains. */
export async function checkWriteBackpressure(context: CheckContext): Promise<void> {
  const location = await context.location('backpressure-write.bin');
  const writer = await startWrite(context.transport, location);
  try {
    const { stream } = writer;
    const highWaterMark = Math.max(stream.writableHighWaterMark, context.highWaterMark ?? 0);
    const chunk = seededBytes(1024, 15);
    const limit = 2 * highWaterMark + ONE_CHUNK;
    let written = 0;
    let refused = false;
    // Synchronous writes: nothing can complete in between, so an honest stream must say "stop".
    while (written < limit && !refused) {
      written += chunk.length;
      refused = !stream.write(chunk);
    }
    check(
      refused,
      `stream.write() still returned true after ${written} bytes written at once (writableHighWaterMark ${stream.writableHighWaterMark})`,
    );
    const drainedInTime = await Promise.race([drained(stream).then(() => true), sleep(10_000).then(() => false)]);
    if (!drainedInTime) fail(`the writer stream did not emit 'drain' within 10 s after write() returned false`);
  } finally {
    await writer.abort();
  }
}
