import { createHash } from 'node:crypto';
import { Readable, Transform, type Writable } from 'node:stream';
import { ThreadedSha256 } from './threaded-sha256.js';

/** A pass-through that hashes (SHA-256) and counts what flows through it. */
export interface DigestingStream extends Transform {
  /** Bytes seen so far. */
  readonly bytes: number;
  /** Hex SHA-256 of everything seen; valid once the stream has ended (throws before). */
  digest(): string;
}

export interface DigestingStreamOptions {
  /** Called with the running byte count after every chunk. */
  onBytes?: (total: number) => void;
  /**
   * How many bytes are expected, when known. From {@link THREADED_DIGEST_MIN_BYTES} on, the hash
   * runs on a worker thread (see ThreadedSha256); below it, or when unknown, inline, since a
   * thread costs ~20 ms to start. @default undefined
   */
  expectedBytes?: number;
}

/** Inputs from this size on are hashed on a worker thread. */
export const THREADED_DIGEST_MIN_BYTES = 64 * 1024 * 1024;

export function digestingStream(options: DigestingStreamOptions = {}): DigestingStream {
  const { onBytes, expectedBytes } = options;
  let bytes = 0;
  let hex: string | undefined;
  let stream: DigestingStream;
  if (expectedBytes !== undefined && expectedBytes >= THREADED_DIGEST_MIN_BYTES) {
    const hash = new ThreadedSha256();
    stream = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        onBytes?.(bytes);
        let room: Promise<void> | undefined;
        try {
          room = hash.update(chunk);
        } catch (error) {
          callback(error as Error);
          return;
        }
        // The chunk goes on at once; only the next one waits while the worker catches up.
        this.push(chunk);
        if (room) room.then(() => callback(), callback);
        else callback();
      },
      flush(callback) {
        hash.digest().then((digest) => {
          hex = digest;
          callback();
        }, callback);
      },
      destroy(error, callback) {
        hash.destroy();
        callback(error);
      },
    }) as DigestingStream;
  } else {
    const hash = createHash('sha256');
    stream = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        bytes += chunk.length;
        onBytes?.(bytes);
        callback(null, chunk);
      },
      flush(callback) {
        hex = hash.digest('hex');
        callback();
      },
    }) as DigestingStream;
  }
  Object.defineProperty(stream, 'bytes', { get: () => bytes });
  stream.digest = () => {
    if (hex === undefined) throw new Error('digestingStream: digest() called before the stream ended');
    return hex;
  };
  return stream;
}

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
