/**
 * Reusable piece buffers for {@link cutIntoClassedPieces}: `take` hands out a buffer of
 * `pieceSize` bytes, a recycled one when there is one, and `recycle` returns a piece's buffer
 * once nothing refers to its bytes any more.
 *
 * Why: a compressor keeps each piece for the whole time it takes to compress (a tenth of a
 * second and more), long enough for V8 to move it to the old generation, where a dead piece is
 * freed only by a full collection, which V8 starts only after tens of MiB more outside its heap.
 * A fresh 2 MiB buffer per piece left 25–40 MiB of dead pieces in an xz export's peak RSS.
 *
 * At most `keep` buffers wait for reuse; a piece recycled beyond that is left to the collector,
 * so the set stays at what is in flight at once.
 */
export class PieceBuffers {
  readonly #pieceSize: number;
  readonly #keep: number;
  readonly #free: ArrayBuffer[] = [];

  /**
   * @param pieceSize bytes per piece, as given to `cutIntoClassedPieces`.
   * @param keep most buffers kept for reuse: the pieces in flight at once.
   */
  constructor(pieceSize: number, keep: number) {
    if (!(Number.isInteger(pieceSize) && pieceSize > 0)) throw new TypeError(`pieceSize must be a positive integer, got ${String(pieceSize)}`);
    this.#pieceSize = pieceSize;
    this.#keep = keep;
  }

  /** A buffer of `pieceSize` bytes, contents undefined. */
  take(): Buffer {
    const recycled = this.#free.pop();
    // allocUnsafeSlow: a buffer of its own, never a slice of Node's shared pool.
    return recycled === undefined ? Buffer.allocUnsafeSlow(this.#pieceSize) : Buffer.from(recycled, 0, this.#pieceSize);
  }

  /**
   * Gives back the buffer under `piece` (a piece from `take`, or its start): the caller promises
   * that nothing reads or keeps its bytes any more. Other buffers are ignored.
   */
  recycle(piece: Buffer): void {
    const { buffer } = piece;
    if (buffer.byteLength !== this.#pieceSize || piece.byteOffset !== 0 || !(buffer instanceof ArrayBuffer)) return;
    if (this.#free.length < this.#keep && !this.#free.includes(buffer)) this.#free.push(buffer);
  }

  /** Buffers waiting for reuse (for tests). */
  get waiting(): number {
    return this.#free.length;
  }
}
