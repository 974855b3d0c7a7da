import type { Readable } from 'node:stream';
import { settle } from './deadline.js';

/** How a stream ended when read to its end: an error, a normal end (with its bytes), or not in time. */
export type StreamEnd = { kind: 'error'; error: unknown } | { kind: 'end'; bytes: Buffer } | { kind: 'timeout' };

/** Read a stream to its end (or error) within `milliseconds`; destroy it when it runs out of time. */
export async function readToEnd(stream: Readable, milliseconds: number): Promise<StreamEnd> {
  const chunks: Buffer[] = [];
  const outcome = await settle(
    (async () => {
      for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
    })(),
    milliseconds,
  );
  if (outcome.kind === 'timeout') {
    stream.destroy();
    return { kind: 'timeout' };
  }
  return outcome.kind === 'error' ? { kind: 'error', error: outcome.error } : { kind: 'end', bytes: Buffer.concat(chunks) };
}

/** Call an encoder and read its output: a synchronous throw counts as the stream's error. */
export async function encodeOutcome(encode: () => Readable, milliseconds: number): Promise<StreamEnd> {
  let stream: Readable;
  try {
    stream = encode();
  } catch (error) {
    return { kind: 'error', error };
  }
  return readToEnd(stream, milliseconds);
}

/** How a decode ended: an error (thrown by `decode` itself or by the iteration), a normal end, or not in time. */
export type DecodeEnd = { kind: 'error'; error: unknown; entries: number } | { kind: 'end'; entries: number } | { kind: 'timeout'; entries: number };

/**
 * Iterate a decode to its end within `milliseconds`, reading every body (a body's error counts as
 * the decode's), and close the iterator when it runs out of time.
 */
export async function decodeOutcome(decode: () => AsyncIterable<unknown>, milliseconds: number): Promise<DecodeEnd> {
  let entries = 0;
  let iterator: AsyncIterator<unknown> | undefined;
  const outcome = await settle(
    (async () => {
      iterator = decode()[Symbol.asyncIterator]();
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        entries += 1;
        const open = (next.value as { open?: () => Readable }).open;
        if (open !== undefined) for await (const chunk of open()) void chunk;
      }
    })(),
    milliseconds,
  );
  if (outcome.kind === 'timeout') {
    void iterator?.return?.().catch(() => {});
    return { kind: 'timeout', entries };
  }
  return outcome.kind === 'error' ? { kind: 'error', error: outcome.error, entries } : { kind: 'end', entries };
}
