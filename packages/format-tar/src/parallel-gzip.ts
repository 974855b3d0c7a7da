import { availableParallelism } from 'node:os';
import { constants, crc32, deflateRaw } from 'node:zlib';
import type { ZlibOptions } from 'node:zlib';

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

/** How the deflate data is made. */
export type DeflateMode = { kind: 'deflate'; level: number } | { kind: 'store' };

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
 * A single gzip member for the bytes of `source`, yielded in order.
 *
 * The header has mtime 0, no file name and a fixed OS byte, so the same input always gives the
 * same bytes.
 */
export async function* parallelGzip(source: AsyncIterable<Buffer>, options: ParallelGzipOptions): AsyncGenerator<Buffer> {
  const concurrency = Math.max(1, options.concurrency ?? defaultConcurrency());
  const pieceSize = options.pieceSize ?? DEFAULT_PIECE_SIZE;
  yield gzipHeader(options.mode);

  let crc = 0;
  let totalSize = 0;
  let dictionary: Buffer | undefined;
  const inFlight: Promise<Buffer>[] = [];
  try {
    for await (const piece of cutIntoPieces(source, pieceSize)) {
      crc = crc32(piece, crc);
      totalSize += piece.length;
      const compressed = compressPiece(piece, dictionary, options.mode);
      // Marks the rejection handled until we await it in order; otherwise a failure of a later
      // piece while we wait on an earlier one would crash the process as unhandled.
      compressed.catch(() => undefined);
      inFlight.push(compressed);
      dictionary = piece.length >= WINDOW_SIZE ? piece.subarray(piece.length - WINDOW_SIZE) : piece;
      while (inFlight.length >= concurrency) yield await (inFlight.shift() as Promise<Buffer>);
    }
    while (inFlight.length > 0) yield await (inFlight.shift() as Promise<Buffer>);
  } finally {
    inFlight.length = 0;
  }

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

/**
 * Regroups arbitrary chunks into pieces of exactly `pieceSize` bytes (the last may be shorter).
 * Each piece is a fresh buffer: it is still being compressed, and serving as the next piece's
 * dictionary, after we have moved on.
 */
async function* cutIntoPieces(source: AsyncIterable<Buffer>, pieceSize: number): AsyncGenerator<Buffer> {
  let piece = Buffer.allocUnsafe(pieceSize);
  let filled = 0;
  for await (const chunk of source) {
    let consumed = 0;
    while (consumed < chunk.length) {
      const copied = chunk.copy(piece, filled, consumed);
      filled += copied;
      consumed += copied;
      if (filled === pieceSize) {
        yield piece;
        piece = Buffer.allocUnsafe(pieceSize);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield piece.subarray(0, filled);
}

function compressPiece(piece: Buffer, dictionary: Buffer | undefined, mode: DeflateMode): Promise<Buffer> {
  if (mode.kind === 'store') return Promise.resolve(storedBlocks(piece));
  const options: ZlibOptions = {
    level: mode.level,
    // Ends the piece at a byte boundary without a final block, so the next piece follows on.
    finishFlush: constants.Z_SYNC_FLUSH,
    // One output chunk instead of many 16 KiB ones that zlib would concatenate at the end.
    chunkSize: piece.length + (piece.length >>> 8) + 1024,
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
