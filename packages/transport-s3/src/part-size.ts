export const MiB = 1024 * 1024;
/** S3's smallest part (except the last). */
export const MIN_PART_SIZE = 5 * MiB;
/** S3's largest part. */
export const MAX_PART_SIZE = 5 * 1024 * MiB;
/** S3's most parts in one upload. */
export const MAX_PARTS = 10_000;
/** Parts per size step when the total size is unknown: every 1,000 parts the size doubles. */
const PARTS_PER_STEP = 1_000;

/**
 * The size of part `partNumber` (1-based). A pure function of its arguments, so that a resumed
 * upload of the same stream cuts it at the same places and its parts can be checked one by one.
 *
 * - With a size hint: one size for every part, the base size or more when the hint needs it
 *   to stay within 10,000 parts.
 * - Without: the base size for parts 1–1,000, then double every 1,000 parts, up to 5 GiB. With the
 *   default 8 MiB: 7.8 GiB in the first 1,000 parts, 23 GiB after 2,000, 55 GiB, 117 GiB, 242 GiB,
 *   492 GiB, 0.97 TiB after 7,000; so memory stays at parts in flight × 8 MiB below 7.8 GiB.
 */
export function partSizeFor(partNumber: number, basePartSize: number, sizeHint: number | undefined): number {
  if (sizeHint !== undefined) {
    const needed = Math.ceil(sizeHint / MAX_PARTS / MiB) * MiB;
    return Math.min(MAX_PART_SIZE, Math.max(basePartSize, needed));
  }
  const step = Math.floor((partNumber - 1) / PARTS_PER_STEP);
  return Math.min(MAX_PART_SIZE, basePartSize * 2 ** step);
}
