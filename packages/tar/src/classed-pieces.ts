import type { CompressibilityClass } from '@bentoport/plugin-kit';
import type { TarSegment } from './tar-encoder.js';

/** A run of the tar stream that one compressor handles, with the class of every byte in it. */
export interface ClassedPiece {
  bytes: Buffer;
  class: CompressibilityClass;
}

/**
 * Regroups classed segments into pieces of at most `pieceSize` bytes. A piece never straddles a
 * class change: it ends early instead, so each piece gets exactly the setting its class asks
 * for. Classes change only at the start and end of a large file's body, so the short pieces this
 * costs are few (two per large file at most). Each piece is a buffer of its own from `newPiece`
 * (by default a fresh one): it may still be compressing, and serve as the next piece's
 * dictionary, after we have moved on. A caller that knows when a piece is done with can hand
 * out recycled buffers instead (see `PieceBuffers`), so the pieces leave no garbage behind.
 */
export async function* cutIntoClassedPieces(
  segments: AsyncIterable<TarSegment>,
  pieceSize: number,
  newPiece: () => Buffer = () => Buffer.allocUnsafe(pieceSize),
): AsyncGenerator<ClassedPiece> {
  if (!(Number.isInteger(pieceSize) && pieceSize > 0)) throw new TypeError(`pieceSize must be a positive integer, got ${String(pieceSize)}`);
  const takePiece = (): Buffer => {
    const buffer = newPiece();
    // A shorter buffer would never fill, and the loop below would never end.
    if (buffer.length < pieceSize) throw new RangeError(`newPiece gave ${buffer.length} bytes, fewer than pieceSize ${pieceSize}`);
    return buffer.subarray(0, pieceSize);
  };
  let piece = takePiece();
  let filled = 0;
  let pieceClass: CompressibilityClass = 'compressible';
  for await (const segment of segments) {
    if (segment.bytes.length === 0) continue;
    if (segment.class !== pieceClass && filled > 0) {
      yield { bytes: piece.subarray(0, filled), class: pieceClass };
      piece = takePiece();
      filled = 0;
    }
    pieceClass = segment.class;
    let consumed = 0;
    while (consumed < segment.bytes.length) {
      const copied = segment.bytes.copy(piece, filled, consumed);
      filled += copied;
      consumed += copied;
      if (filled === pieceSize) {
        yield { bytes: piece, class: pieceClass };
        piece = takePiece();
        filled = 0;
      }
    }
  }
  if (filled > 0) yield { bytes: piece.subarray(0, filled), class: pieceClass };
}
