import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { Sha256Thread } from './threaded-sha256.js';

/** A pass-through that hashes (SHA-256) and counts what flows through it. */
export interface DigestingStream extends Transform {
  /** Bytes seen so far. */
  readonly bytes: number;
  /**
   * Hex SHA-256 of everything seen, or '' when the stream was made with `hash: false`; valid once
   * the stream has ended (throws before).
   */
  digest(): string;
}

export interface DigestingStreamOptions {
  /** Called with the running byte count after every chunk. */
  onBytes?: (total: number) => void;
  /**
   * How many bytes are expected, when known. From {@link THREADED_DIGEST_MIN_BYTES} on, the hash
   * runs on a worker thread (see Sha256Thread); below it, or when unknown, inline, since a
   * thread costs ~20 ms to start. @default undefined
   */
  expectedBytes?: number;
  /**
   * The thread to hash on when the hash is threaded, shared with the operation's other hashes;
   * its owner destroys it. @default a thread of the stream's own, stopped with the stream
   */
  thread?: Sha256Thread;
  /**
   * `false` only counts (and reports) the bytes: for a transfer whose digest nobody asked for, so
   * that a signed one hashes every byte once, not twice (see the signed export and import).
   * @default true
   */
  hash?: boolean;
}

/** Inputs from this size on are hashed on a worker thread. */
export const THREADED_DIGEST_MIN_BYTES = 64 * 1024 * 1024;

/** What digestingStream needs of a SHA-256: inline (node:crypto) or on a worker thread. */
interface Sha256 {
  /** Adds a chunk; a promise means "wait before the next one". */
  update(chunk: Buffer): Promise<void> | undefined;
  digest(): Promise<string> | string;
  destroy(): void;
}

function inlineSha256(): Sha256 {
  const hash = createHash('sha256');
  return {
    update: (chunk) => void hash.update(chunk),
    digest: () => hash.digest('hex'),
    destroy: () => undefined,
  };
}

/** No hash: the digest of a stream made with `hash: false` is ''. */
const NO_SHA256: Sha256 = { update: () => undefined, digest: () => '', destroy: () => undefined };

/** A hash on `shared`, or on a thread of its own that ends with it. */
function threadedSha256(shared: Sha256Thread | undefined): Sha256 {
  const thread = shared ?? new Sha256Thread();
  const stop = () => {
    if (shared === undefined) thread.destroy();
  };
  const hash = thread.open();
  return { update: (chunk) => hash.update(chunk), digest: () => hash.digest().finally(stop), destroy: stop };
}

export function digestingStream(options: DigestingStreamOptions = {}): DigestingStream {
  const { onBytes, expectedBytes } = options;
  // A Sha256Thread starts its worker with the first batch: a stream that never runs (its
  // destination failed to open) starts none that would keep the process alive.
  const hash =
    options.hash === false
      ? NO_SHA256
      : expectedBytes !== undefined && expectedBytes >= THREADED_DIGEST_MIN_BYTES
        ? threadedSha256(options.thread)
        : inlineSha256();
  let bytes = 0;
  let hex: string | undefined;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      let room: Promise<void> | undefined;
      try {
        room = hash.update(chunk);
      } catch (error) {
        callback(error as Error);
        return;
      }
      bytes += chunk.length;
      onBytes?.(bytes);
      // The chunk goes on at once; only the next one waits while a hash thread catches up.
      this.push(chunk);
      if (room) room.then(() => callback(), callback);
      else callback();
    },
    flush(callback) {
      Promise.resolve()
        .then(() => hash.digest())
        .then((digest) => {
          hex = digest;
          callback();
        }, callback);
    },
    destroy(error, callback) {
      hash.destroy();
      callback(error);
    },
  }) as DigestingStream;
  Object.defineProperty(stream, 'bytes', { get: () => bytes });
  stream.digest = () => {
    if (hex === undefined) throw new Error('digestingStream: digest() called before the stream ended');
    return hex;
  };
  return stream;
}
