import { finished, PassThrough, Readable, type Writable } from 'node:stream';

/**
 * Read the first `length` bytes of a stream (fewer if it is shorter) without losing them: returns
 * them and a stream that yields the whole input from its first byte, with backpressure intact.
 */
export async function peekStream(source: Readable, length: number): Promise<{ head: Buffer; stream: Readable }> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const buffered: Buffer[] = [];
  let size = 0;
  let done = false;
  while (size < length) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    buffered.push(chunk);
    size += chunk.length;
  }
  const head = Buffer.concat(buffered).subarray(0, length);
  async function* replay() {
    yield* buffered;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  const stream = Readable.from(replay(), { objectMode: false });
  stream.on('close', () => {
    if (!done) void iterator.return?.();
  });
  return { head, stream };
}

/**
 * Resolve once a writable has finished; when it is destroyed before that, reject with what
 * `failure(stream.errored)` returns. Unlike `stream.finished`, it settles at once for a stream
 * that already finished or was destroyed, so a two-phase `commit` can never hang on it.
 */
export function writableFinished(stream: Writable, failure: (errored: Error | null) => Error): Promise<void> {
  if (stream.writableFinished) return Promise.resolve();
  if (stream.destroyed) return Promise.reject(failure(stream.errored));
  return new Promise((resolve, reject) => {
    const onFinish = (): void => {
      stream.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      stream.off('finish', onFinish);
      if (stream.writableFinished) resolve();
      else reject(failure(stream.errored));
    };
    stream.once('finish', onFinish);
    stream.once('close', onClose);
  });
}

/**
 * The same bytes, with backpressure, but a failure of `source` arrives as `toError(error)`: a
 * response body that drops mid-way fails its reader with the plugin's coded one-line error, not
 * with the socket's `ECONNRESET`. Destroying the returned stream destroys `source`.
 * @example recodeErrors(response.body, (error) => networkFailure('registry-x', 'GET', url, error))
 */
export function recodeErrors(source: Readable, toError: (error: unknown) => Error): Readable {
  const output = new PassThrough({ readableHighWaterMark: source.readableHighWaterMark });
  // `finished`, not an 'error' listener: it also reports a source destroyed before this call (its
  // 'error' and 'close' already emitted) or closed without an end, which `pipe` would leave
  // pending forever, with nothing left to settle the reader's promise.
  finished(source, { writable: false }, (error) => {
    if (error) output.destroy(toError(error));
  });
  output.on('close', () => {
    if (!source.destroyed) source.destroy();
  });
  source.pipe(output);
  return output;
}

/** Chunks of at least this many bytes pass {@link gatherChunks} as they are. @default 256 KiB */
export const GATHERED_CHUNK_BYTES = 256 * 1024;

/**
 * The bytes of `source` in chunks of at least `minBytes` (the last may be shorter): small chunks
 * are gathered into one, a large chunk passes through without a copy (after what was held).
 *
 * Why: every chunk an encoder yields becomes one write downstream (a file write, a socket write,
 * an append to an upload part). A tar of 10,000 small files is 30,000 pieces (header, body,
 * padding); written one by one, the output's per-call cost exceeded the archiving itself.
 * @example
 * ```ts
 * await pipeline(encoder, (source) => gatherChunks(source), destination);
 * ```
 */
export async function* gatherChunks(source: AsyncIterable<Buffer>, minBytes = GATHERED_CHUNK_BYTES): AsyncGenerator<Buffer> {
  const held: Buffer[] = [];
  let heldBytes = 0;
  const release = (): Buffer => {
    const gathered = held.length === 1 ? (held[0] as Buffer) : Buffer.concat(held, heldBytes);
    held.length = 0;
    heldBytes = 0;
    return gathered;
  };
  for await (const chunk of source) {
    if (chunk.length >= minBytes) {
      if (heldBytes > 0) yield release();
      yield chunk;
      continue;
    }
    held.push(chunk);
    heldBytes += chunk.length;
    if (heldBytes >= minBytes) yield release();
  }
  if (heldBytes > 0) yield release();
}
