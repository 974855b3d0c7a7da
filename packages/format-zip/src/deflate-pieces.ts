import { constants as zlibConstants, deflateRaw, deflateRawSync } from 'node:zlib';
import { deflatePieceChunkSize } from '@bentoport/plugin-kit';

/**
 * Parallel raw deflate that still produces ONE standard deflate stream per entry.
 *
 * The body is cut into fixed-size pieces. Each piece is compressed by its own, independent zlib
 * compressor (so pieces can run on several threads at once), primed with the previous piece's
 * last 32 KiB as a preset dictionary (so matches can still reach back across the cut), and ended
 * with a sync flush: the flush aligns the output to a byte boundary and leaves the block
 * non-final, so the pieces concatenate into one valid stream. A final empty stored block closes
 * it. Reusing one compressor with sync flushes around inserted blocks would corrupt
 * back-references (see compression-notes.md); independent compressors cannot.
 *
 * Piece boundaries depend only on the byte count, never on how the input was chunked or how many
 * threads ran, so the output is reproducible.
 */

/** A final (BFINAL=1) empty stored block: ends a deflate stream whose last piece was sync-flushed. */
export const FINAL_EMPTY_BLOCK: Buffer = Buffer.from([0x01, 0x00, 0x00, 0xff, 0xff]);

/** Deflate looks back at most 32 KiB, so a longer dictionary would be wasted. */
const WINDOW_SIZE = 32 * 1024;

/**
 * Pieces up to this size are compressed on the main thread: for small files (most of a bento
 * besides the weights) a thread-pool round trip costs more than the compression itself. The bytes
 * are the same either way.
 */
const SYNC_PIECE_LIMIT = 16 * 1024;

function deflatePiece(piece: Buffer, dictionary: Buffer | undefined, level: number, strategy: number): Promise<Buffer> {
  const options = {
    level,
    strategy,
    finishFlush: zlibConstants.Z_SYNC_FLUSH,
    // One output buffer, not 16 KiB ones joined into a copy: a bento's thousands of 1-2 KiB
    // sources left 16 KiB of garbage a file, a 1 MiB piece twice its size.
    chunkSize: deflatePieceChunkSize(piece.length),
    ...(dictionary === undefined ? {} : { dictionary }),
  };
  if (piece.length <= SYNC_PIECE_LIMIT) {
    try {
      return Promise.resolve(deflateRawSync(piece, options));
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return new Promise((resolve, reject) => {
    deflateRaw(piece, options, (error, output) => (error ? reject(error) : resolve(output)));
  });
}

/**
 * Regroups arbitrary chunks into pieces of exactly `pieceSize` bytes (the last one shorter).
 * Copies only when a piece spans several input chunks.
 */
export async function* cutPieces(chunks: AsyncIterable<Buffer>, pieceSize: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingLength = 0;
  for await (const chunk of chunks) {
    let rest = chunk;
    while (rest.length > 0) {
      const take = Math.min(pieceSize - pendingLength, rest.length);
      pending.push(rest.subarray(0, take));
      pendingLength += take;
      rest = rest.subarray(take);
      if (pendingLength === pieceSize) {
        yield pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingLength);
        pending = [];
        pendingLength = 0;
      }
    }
  }
  if (pendingLength > 0) yield Buffer.concat(pending, pendingLength);
}

export interface DeflatePiecesOptions {
  /** zlib level 1..9. */
  level: number;
  /** zlib strategy. @default zlib's default strategy */
  strategy?: number;
  /** Uncompressed bytes per piece. */
  pieceSize: number;
  /** Pieces being compressed at once; also bounds memory to about this many pieces (input + output). */
  concurrency: number;
}

/**
 * Compresses `pieces` (in order) into the chunks of one raw deflate stream, including the final
 * empty block. At most `concurrency` pieces are in flight; nothing else is buffered.
 */
export async function* deflatePieces(pieces: AsyncIterable<Buffer>, options: DeflatePiecesOptions): AsyncGenerator<Buffer> {
  const inFlight: Promise<Buffer>[] = [];
  let dictionary: Buffer | undefined;
  for await (const piece of pieces) {
    const compressed = deflatePiece(piece, dictionary, options.level, options.strategy ?? zlibConstants.Z_DEFAULT_STRATEGY);
    // Awaited in order below; this only keeps a failure that we have not reached yet from being
    // reported as an unhandled rejection.
    compressed.catch(() => undefined);
    inFlight.push(compressed);
    dictionary = piece.length > WINDOW_SIZE ? piece.subarray(piece.length - WINDOW_SIZE) : piece;
    while (inFlight.length >= options.concurrency) yield await (inFlight.shift() as Promise<Buffer>);
  }
  while (inFlight.length > 0) yield await (inFlight.shift() as Promise<Buffer>);
  yield FINAL_EMPTY_BLOCK;
}
