import { availableParallelism } from 'node:os';
import { constants, crc32, deflateRaw } from 'node:zlib';
import type { ZlibOptions } from 'node:zlib';
import type { CompressionPolicy } from '@bentoport/spec';
import { deflatePieceChunkSize, DENSE_DEFLATE } from '@bentoport/plugin-kit';
import type { CompressibilityClass } from '@bentoport/plugin-kit';
import { cutIntoClassedPieces, mapInOrder } from '@bentoport/tar';
import type { ClassedPiece, PieceBuffers } from '@bentoport/tar';

/**
 * Gzip on several cores with nothing but Node's zlib, the way pigz does it.
 *
 * The input is cut into pieces compressed independently and concurrently by `deflateRaw`, which
 * runs on the libuv thread pool. Each piece is primed with the previous piece's last 32 KiB as
 * its dictionary, so back-references across the cut still find their match and the ratio stays
 * within a fraction of a percent of single-stream gzip. Each piece ends with a sync flush: an
 * empty stored block that leaves the deflate stream at a byte boundary and not final, so pieces
 * concatenate into one deflate stream. One gzip member results (Python's `tarfile` `r|gz` reads
 * only the first member), and only the CRC32, computed here in order, ties the pieces together.
 *
 * Never reuse one compressor with sync flushes around inserted blocks: the compressor keeps
 * back-references into data the decoder never saw, and `gzip -t` fails while Python extracts
 * the corrupt bytes silently (see docs/compression-notes.md).
 */

/** How the deflate data is made: zlib's level and strategy (default strategy if unset), or stored blocks. */
export type DeflateMode = { kind: 'deflate'; level: number; strategy?: number } | { kind: 'store' };

/**
 * The deflate setting per class: classic (6, or 9 under `max`, or `gzipLevel`) for compressible
 * data, run-length deflate for dense data (weights: as small as level 6, 3–4× faster than level
 * 1; see DENSE_DEFLATE), stored blocks for incompressible data.
 */
export function deflateMode(pieceClass: CompressibilityClass, policy: CompressionPolicy, gzipLevel: number | undefined): DeflateMode {
  switch (pieceClass) {
    case 'incompressible':
      return { kind: 'store' };
    case 'dense':
      return { kind: 'deflate', ...DENSE_DEFLATE };
    default:
      return { kind: 'deflate', level: gzipLevel ?? (policy === 'max' ? 9 : 6) };
  }
}

export interface ParallelGzipOptions {
  mode: DeflateMode;
  /** Pieces being compressed at once; also bounds memory to about twice this many pieces. */
  concurrency?: number;
  /** Bytes per piece. Large pieces waste less at each cut and cost fewer thread hops. */
  pieceSize?: number;
}

/** 1 MiB pieces: the cut costs ~10 bytes and a window warm-up, well under 0.1% at this size. */
export const DEFAULT_PIECE_SIZE = 1024 * 1024;

/** Deflate's window: a dictionary longer than this is never used. */
const WINDOW_SIZE = 32 * 1024;

/** Stored blocks hold at most 65535 bytes (16-bit LEN). */
const MAX_STORED_BLOCK = 65_535;

/** The last deflate block: empty, stored, final. After it come CRC32 and ISIZE. */
const FINAL_EMPTY_BLOCK = Buffer.from([0x01, 0x00, 0x00, 0xff, 0xff]);

/** One default the factory and the tests share: every core busy plus one piece queued. */
export function defaultConcurrency(): number {
  return availableParallelism() + 1;
}

/**
 * A single gzip member for the bytes of `source`, yielded in order, every piece made with `mode`.
 *
 * The header has mtime 0, no file name and a fixed OS byte, so the same input always gives the
 * same bytes.
 */
export async function* parallelGzip(source: AsyncIterable<Buffer>, options: ParallelGzipOptions): AsyncGenerator<Buffer> {
  const pieceSize = options.pieceSize ?? DEFAULT_PIECE_SIZE;
  const segments = (async function* () {
    for await (const bytes of source) yield { bytes, class: 'compressible' as const };
  })();
  yield* parallelGzipPieces(cutIntoClassedPieces(segments, pieceSize), {
    modeFor: () => options.mode,
    headerMode: options.mode,
    concurrency: options.concurrency,
  });
}

export interface ParallelGzipPiecesOptions {
  /** The deflate mode for a piece of each class. */
  modeFor: (pieceClass: CompressibilityClass) => DeflateMode;
  /** The mode the header's XFL byte describes (the policy's main setting). */
  headerMode: DeflateMode;
  /** Pieces being compressed at once; also bounds memory to about twice this many pieces. */
  concurrency?: number;
  /**
   * Where each piece's buffer goes back once it is compressed, when the pieces came from
   * `buffers.take()`: a recycled piece leaves no garbage behind (see PieceBuffers).
   * @default undefined (pieces are left to the garbage collector)
   */
  buffers?: PieceBuffers;
}

/**
 * One gzip member over classed pieces (see `cutIntoClassedPieces`), each compressed with the
 * mode of its class, joined into one deflate stream.
 */
export async function* parallelGzipPieces(pieces: AsyncIterable<ClassedPiece>, options: ParallelGzipPiecesOptions): AsyncGenerator<Buffer> {
  const concurrency = Math.max(1, options.concurrency ?? defaultConcurrency());
  yield gzipHeader(options.headerMode);

  let crc = 0;
  let totalSize = 0;
  let dictionary: Buffer | undefined;
  const jobs = (async function* () {
    for await (const piece of pieces) {
      crc = crc32(piece.bytes, crc);
      totalSize += piece.bytes.length;
      yield { piece: piece.bytes, dictionary, mode: options.modeFor(piece.class) };
      // A copy: the piece goes back to `buffers` once compressed, and the next piece's dictionary
      // must not depend on zlib having read it before the buffer is refilled.
      const bytes = piece.bytes;
      dictionary = Buffer.from(bytes.length >= WINDOW_SIZE ? bytes.subarray(bytes.length - WINDOW_SIZE) : bytes);
    }
  })();
  const compress = async (job: { piece: Buffer; dictionary: Buffer | undefined; mode: DeflateMode }): Promise<Buffer> => {
    const output = await compressPiece(job.piece, job.dictionary, job.mode);
    // zlib's output and stored blocks are both copies: nothing reads the piece any more.
    options.buffers?.recycle(job.piece);
    return output;
  };
  yield* mapInOrder(jobs, compress, concurrency);

  const trailer = Buffer.alloc(FINAL_EMPTY_BLOCK.length + 8);
  FINAL_EMPTY_BLOCK.copy(trailer, 0);
  trailer.writeUInt32LE(crc >>> 0, FINAL_EMPTY_BLOCK.length);
  // ISIZE is the length modulo 2^32 (RFC 1952).
  trailer.writeUInt32LE(totalSize % 2 ** 32, FINAL_EMPTY_BLOCK.length + 4);
  yield trailer;
}

function gzipHeader(mode: DeflateMode): Buffer {
  // XFL 2 = best compression, 4 = fastest, as gzip sets it; OS 255 = unknown, fixed on every host.
  const extraFlags = mode.kind === 'deflate' && mode.level === 9 ? 2 : mode.kind === 'deflate' && mode.level === 1 ? 4 : 0;
  return Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, extraFlags, 0xff]);
}

function compressPiece(piece: Buffer, dictionary: Buffer | undefined, mode: DeflateMode): Promise<Buffer> {
  if (mode.kind === 'store') return Promise.resolve(storedBlocks(piece));
  const options: ZlibOptions = {
    level: mode.level,
    strategy: mode.strategy ?? constants.Z_DEFAULT_STRATEGY,
    // Ends the piece at a byte boundary without a final block, so the next piece follows on.
    finishFlush: constants.Z_SYNC_FLUSH,
    // One output chunk instead of many 16 KiB ones that zlib would concatenate at the end.
    chunkSize: deflatePieceChunkSize(piece.length),
  };
  if (dictionary !== undefined) options.dictionary = dictionary;
  return new Promise((resolve, reject) => {
    deflateRaw(piece, options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** Stored (uncompressed) deflate blocks: `00`, LEN and NLEN little-endian, then the bytes. */
function storedBlocks(piece: Buffer): Buffer {
  const blockCount = Math.ceil(piece.length / MAX_STORED_BLOCK);
  const output = Buffer.allocUnsafe(piece.length + blockCount * 5);
  let written = 0;
  for (let start = 0; start < piece.length; start += MAX_STORED_BLOCK) {
    const length = Math.min(MAX_STORED_BLOCK, piece.length - start);
    output[written] = 0x00;
    output.writeUInt16LE(length, written + 1);
    output.writeUInt16LE(~length & 0xffff, written + 3);
    piece.copy(output, written + 5, start, start + length);
    written += 5 + length;
  }
  return output;
}
