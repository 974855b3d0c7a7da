import { bufferGarbageCollector } from '@bentoport/plugin-kit';
import { mapInOrder } from '@bentoport/tar';
import { cutIntoBlockPieces } from './bzip2-block-boundaries.js';
import { joinBlocks, singleBlockOf, type BzipBlock } from './bzip2-stream-writer.js';
import { Bzip2WorkerPool } from './bzip2-workers.js';

/** bzip2's largest blocks (900 kB): the only setting worth having, and what `bzip2` uses. */
export const BLOCK_LEVEL = 9;

/**
 * `chunks` as ONE bzip2 stream at `-9`, its blocks compressed on `workers` threads at once.
 * Each piece is one block's input (see bzip2-block-boundaries.ts), so the output is what
 * `bzip2 -9` writes for the same bytes. At most `workers + 1` pieces are in flight.
 */
export async function* bzip2Encode(chunks: AsyncIterable<Uint8Array>, workers: number): AsyncGenerator<Buffer> {
  const pool = new Bzip2WorkerPool(workers);
  try {
    const pieces = cutIntoBlockPieces(chunks, BLOCK_LEVEL);
    // The file chunks the pieces are copied from, and the blocks once joined, die soon but not
    // young: see bufferGarbageCollector.
    const garbage = bufferGarbageCollector();
    const compress = async (piece: Buffer): Promise<BzipBlock> => {
      const bytes = piece.length;
      const block = singleBlockOf(await pool.compress(piece, BLOCK_LEVEL));
      garbage.passed(bytes);
      return block;
    };
    const blocks = mapInOrder(pieces, compress, workers + 1);
    yield* joinBlocks(blocks, BLOCK_LEVEL);
  } finally {
    await pool.close();
  }
}
