/**
 * Cuts a byte stream into pieces that each fill exactly one bzip2 block, at the very places
 * where libbzip2 itself ends its blocks. Compressed independently (one piece, one block) and
 * joined by `joinBlocks`, they give the bytes that `bzip2 -9` gives for the whole stream: same
 * blocks, so same block CRCs, same bits and the same stream CRC.
 *
 * libbzip2 fills a block with the output of its first run-length stage (runs of 4 to 255 equal
 * bytes become 4 bytes plus a count byte), up to `100000 × level − 19` bytes. It checks for a
 * full block before taking each input byte, and a run is written into the block only when the
 * next different byte (or a 256th equal one) arrives; the run still open when the block fills
 * goes into the next block. The scan below keeps the same counts: it costs one pass over the
 * bytes on the main thread, against the compressing on the workers.
 *
 * One exception: a piece also ends at `PIECE_LIMIT` bytes of input, block full or not. A block
 * of one repeated byte holds about 46 MB of input (255 bytes per 5), and a bentoport export must
 * not hold several of those in memory, nor read that far ahead of its consumer. Only data that
 * run-length coding shrinks by more than half reaches the limit, and such data compresses to
 * almost nothing: the extra blocks cost a few dozen bytes each, and the output is still byte for
 * byte `bzip2 -9`'s wherever no block reaches the limit.
 */

/** Input bytes of one piece at most (see above). */
export const PIECE_LIMIT = 2_000_000;

/** What the scan knows about the block being filled; positions are indexes into the piece. */
interface ScanState {
  /** Bytes of run-length output in the block so far. */
  blockBytes: number;
  /** The byte of the run still open (-1 before the first byte). */
  runByte: number;
  runLength: number;
  /** Where the run still open started: the end of the piece if the block fills now. */
  runStart: number;
}

/** Bytes a run of `length` (1–255) equal bytes takes in the block after run-length coding. */
function runCost(length: number): number {
  return length < 4 ? length : 5;
}

/**
 * Scans `piece[from, to)`. Returns where the piece ends as soon as the block is full and another
 * byte arrives (the start of the run still open) or the piece reaches `PIECE_LIMIT`, or nothing
 * if `to` came first. After a cut the state describes the next block, with `runStart` as 0: the
 * caller moves the bytes from the cut on to the front of a new piece and scans on from
 * `resumeAt − cut`.
 */
function scanForBlockEnd(state: ScanState, piece: Uint8Array, from: number, to: number, capacity: number): { cut: number; resumeAt: number } | undefined {
  let { blockBytes, runByte, runLength, runStart } = state;
  for (let position = from; position < to; position++) {
    if (blockBytes >= capacity) {
      // The open run goes into the next block, as libbzip2 does.
      Object.assign(state, { blockBytes: 0, runByte, runLength, runStart: 0 });
      return { cut: runStart, resumeAt: position };
    }
    if (position === PIECE_LIMIT) {
      // The whole piece goes, open run included: the next piece starts a run of its own.
      Object.assign(state, { blockBytes: 0, runByte: -1, runLength: 0, runStart: 0 });
      return { cut: position, resumeAt: position };
    }
    const byte = piece[position] as number;
    if (byte !== runByte || runLength === 255) {
      if (runByte >= 0) blockBytes += runCost(runLength);
      runByte = byte;
      runLength = 1;
      runStart = position;
    } else {
      runLength++;
    }
  }
  Object.assign(state, { blockBytes, runByte, runLength, runStart });
  return undefined;
}

/**
 * The bytes of the piece being scanned, copied (the tar encoder's chunks are not ours to keep)
 * into one staging buffer that lives as long as the encoder: it grows only for a piece longer
 * than any before (up to `PIECE_LIMIT` plus a chunk), and each piece handed out is a copy of
 * exactly its bytes. Allocating per piece instead (a 1 MiB buffer, doubled when a chunk did not
 * fit, a fresh one for the rest) moved 3.6 MiB of buffers per 0.9 MB block through the heap and
 * sent a 2 MiB buffer to a worker with every block: 180 MiB peak RSS for a 128 MiB export.
 */
class PieceBuffer {
  bytes = Buffer.allocUnsafeSlow(1 << 20);
  length = 0;

  append(chunk: Uint8Array): void {
    if (this.length + chunk.length > this.bytes.length) {
      const larger = Buffer.allocUnsafeSlow(Math.max(this.bytes.length * 2, this.length + chunk.length));
      this.bytes.copy(larger, 0, 0, this.length);
      this.bytes = larger;
    }
    this.bytes.set(chunk, this.length);
    this.length += chunk.length;
  }

  /**
   * Hands over bytes `[0, cut)` in a buffer of exactly that size, with an ArrayBuffer of its own
   * (never one of Node's pooled small buffers), so it can be transferred to a worker; the rest
   * moves to the front.
   */
  takeUpTo(cut: number): Buffer {
    const taken = Buffer.allocUnsafeSlow(cut);
    this.bytes.copy(taken, 0, 0, cut);
    this.bytes.copyWithin(0, cut, this.length);
    this.length -= cut;
    return taken;
  }
}

/**
 * Pieces of `chunks`, each the input of exactly one bzip2 block at block size `level` (1–9), in
 * order; nothing for an empty input. A piece holds at most `100000 × level` bytes of ordinary
 * data, but up to about 46 MB of one repeated byte (run-length coding packs 255 bytes into 5).
 */
export async function* cutIntoBlockPieces(chunks: AsyncIterable<Uint8Array>, level: number): AsyncGenerator<Buffer> {
  const capacity = 100_000 * level - 19;
  const state: ScanState = { blockBytes: 0, runByte: -1, runLength: 0, runStart: 0 };
  const piece = new PieceBuffer();
  for await (const chunk of chunks) {
    let from = piece.length;
    piece.append(chunk);
    for (let found = scanForBlockEnd(state, piece.bytes, from, piece.length, capacity); found; found = scanForBlockEnd(state, piece.bytes, from, piece.length, capacity)) {
      yield piece.takeUpTo(found.cut);
      from = found.resumeAt - found.cut;
    }
  }
  // libbzip2 also ends a full block when the input ends, and the run still open makes one more.
  if (state.blockBytes >= capacity && state.runStart > 0) yield piece.takeUpTo(state.runStart);
  if (piece.length > 0) yield piece.takeUpTo(piece.length);
}
