import { createHash, hash } from 'node:crypto';
import { Sha256Thread } from './threaded-sha256.js';

/**
 * The SHA-256 of each file an export reads or an import writes, taken from the bytes as they
 * pass, so that signing or verifying the item (its content manifest lists every file's digest)
 * does not read every file a second time. A manifest built from these covers exactly the bytes
 * that were moved.
 */

/** A file's size and SHA-256, as the content manifest lists it. */
export interface FileDigest {
  size: number;
  sha256: string;
  /**
   * The permission bits the pipeline found the file with, when it stat'ed it anyway (an export's
   * walk does): the manifest then needs no stat of its own. @default undefined (the manifest stats)
   */
  mode?: number;
}

/** Digests by absolute file path. */
export type KnownDigests = ReadonlyMap<string, FileDigest>;

/** The hash of one file whose bytes arrive in chunks. */
export interface FileHashing {
  /** Adds a chunk; a promise means "wait before the next one" (a hash thread catching up). */
  update(chunk: Uint8Array): Promise<void> | undefined;
  /** The file's last byte was added: record its digest. Not called for a file abandoned half-way. */
  end(): void;
}

/** Options of {@link FileDigests}. */
export interface FileDigestsOptions {
  /**
   * Streamed files from this size on are hashed on a worker thread, the others inline. An import
   * keeps its main thread busy (decoding, writing) and a second hash there would add its whole
   * cost; on a thread it overlaps. @default Infinity (all inline)
   */
  threadedFromBytes?: number;
  /**
   * The thread to hash on, shared with the operation's other hashes (its archive's); its owner
   * destroys it. @default a thread of these digests' own, stopped by destroy()
   */
  thread?: Sha256Thread;
}

export class FileDigests {
  readonly #known = new Map<string, FileDigest>();
  /** Digests still on their way from the hash thread. */
  readonly #pending: Promise<void>[] = [];
  readonly #threadedFromBytes: number;
  #thread: Sha256Thread | undefined;
  readonly #ownsThread: boolean;

  constructor(options: FileDigestsOptions = {}) {
    this.#threadedFromBytes = options.threadedFromBytes ?? Number.POSITIVE_INFINITY;
    this.#thread = options.thread;
    this.#ownsThread = options.thread === undefined;
  }

  /**
   * Records a file read or written whole, with its permission bits when known. One-shot `hash`:
   * a bento's thousands of small sources each paid a Hash object's set-up, 40% of the cost.
   */
  addWhole(file: string, data: Uint8Array, mode?: number): void {
    this.#known.set(file, withMode({ size: data.length, sha256: hash('sha256', data, 'hex') }, mode));
  }

  /** Starts the hash of `file`, expected to be `expectedSize` bytes long, with its permission bits when known. */
  begin(file: string, expectedSize: number, mode?: number): FileHashing {
    if (expectedSize >= this.#threadedFromBytes) return this.#threaded(file, mode);
    const fileHash = createHash('sha256');
    let size = 0;
    return {
      update: (chunk) => {
        size += chunk.length;
        fileHash.update(chunk);
        return undefined;
      },
      end: () => void this.#known.set(file, withMode({ size, sha256: fileHash.digest('hex') }, mode)),
    };
  }

  #threaded(file: string, mode: number | undefined): FileHashing {
    this.#thread ??= new Sha256Thread();
    const threadHash = this.#thread.open();
    let size = 0;
    return {
      update: (chunk) => {
        size += chunk.length;
        return threadHash.update(chunk);
      },
      end: () => {
        const recorded = threadHash.digest().then((sha256) => void this.#known.set(file, withMode({ size, sha256 }, mode)));
        // Read through known(); a failed operation never asks, and must not see it as unhandled.
        recorded.catch(() => undefined);
        this.#pending.push(recorded);
      },
    };
  }

  /** Every digest recorded, once the hash thread has given the last. */
  async known(): Promise<KnownDigests> {
    await Promise.all(this.#pending);
    return this.#known;
  }

  /** Stops the hash thread if it is these digests' own; call when done, whatever happened. */
  destroy(): void {
    if (this.#ownsThread) this.#thread?.destroy();
  }
}

function withMode(digest: FileDigest, mode: number | undefined): FileDigest {
  if (mode !== undefined) digest.mode = mode & 0o777;
  return digest;
}
