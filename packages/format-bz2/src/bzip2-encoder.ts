import { mapInOrder } from '@bentoport/tar';
import { cutIntoBlockPieces } from './bzip2-block-boundaries.js';
import { joinBlocks, singleBlockOf } from './bzip2-stream-writer.js';
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
    const blocks = mapInOrder(pieces, async (piece) => singleBlockOf(await pool.compress(piece, BLOCK_LEVEL)), workers + 1);
    yield* joinBlocks(blocks, BLOCK_LEVEL);
  } finally {
    await pool.close();
  }
}
