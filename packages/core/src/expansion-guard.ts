import { statfs } from 'node:fs/promises';
import { BentoportError } from '@bentoport/spec';
import type { ExtractionLimits } from './safe-extract.js';

/** What the guard compares the extracted bytes with. */
export interface ArchiveMeasure {
  /** Archive bytes read from the transport so far (compressed bytes). */
  bytesRead?: () => number;
  /** The archive's whole size, when the transport said. */
  size?: number;
}

/** Files from this declared size on are checked against the free space (one statfs each). */
const FREE_SPACE_CHECK_MIN_BYTES = 1024 * 1024;

/** `extractedBytes` in the details says how much the archive had written when it was stopped. */
function unsafe(entryPath: string, reason: string, extractedBytes: number): BentoportError {
  return new BentoportError('ERR_UNSAFE_ARCHIVE', `[extract] unsafe archive entry '${entryPath}': ${reason}`, {
    details: { entry: entryPath, extractedBytes },
  });
}

/**
 * Keeps what an extraction writes in proportion to the archive it comes from, so that a
 * decompression bomb is stopped having written little: by its declared sizes before a body is
 * decoded when the archive's size is known, else on every decoded chunk.
 */
export class ExpansionGuard {
  /** File bytes counted so far. */
  private written = 0;
  /**
   * Declared bytes of every file admitted so far: never below `written` (a body is refused before
   * it is counted past its declared size), above it while files admitted earlier are still being
   * written (independent bodies, written alongside the next entries). Their remaining bytes count
   * as taken, against the limits and the free space.
   */
  private admitted = 0;

  constructor(
    private readonly limits: ExtractionLimits,
    private readonly archive: ArchiveMeasure,
  ) {}

  /**
   * Before a file body is decoded: its declared size must fit the total limit, the ratio to the
   * archive's known size and the free space under `root`.
   * @throws {BentoportError} ERR_UNSAFE_ARCHIVE over a limit; ERR_IO when the disk cannot hold it.
   */
  async admitFile(entryPath: string, declaredBytes: number, root: string): Promise<void> {
    const { maxTotalBytes, maxCompressionRatio } = this.limits;
    const taken = this.admitted;
    if (declaredBytes > maxTotalBytes - taken) {
      throw unsafe(entryPath, `the archive expands beyond the ${maxTotalBytes}-byte limit`, this.written);
    }
    const size = this.archive.size;
    // A tar header or zip directory can claim any size; with the archive's size known, a claim
    // past the ratio is refused here, before decoding anything (a plain tar's lie included).
    if (size !== undefined && taken + declaredBytes > this.ratioAllowance(size)) {
      throw unsafe(
        entryPath,
        `its declared ${declaredBytes} bytes would take the compression ratio of the ${size}-byte archive beyond ${maxCompressionRatio}:1 (a decompression bomb?)`,
        this.written,
      );
    }
    if (declaredBytes >= FREE_SPACE_CHECK_MIN_BYTES) await this.requireFreeSpace(entryPath, declaredBytes + (taken - this.written), root);
    this.admitted = taken + declaredBytes;
  }

  /**
   * Count `bytes` just decoded, on every chunk: a lying or unsized source is stopped here.
   * @throws {BentoportError} ERR_UNSAFE_ARCHIVE over the total or the ratio limit.
   */
  count(entryPath: string, bytes: number): void {
    // Checked before the chunk is let through, so `extractedBytes` is what was written: a
    // decoder may hand over a whole bzip2 block (~45 MB of zeros) as one chunk.
    const total = this.written + bytes;
    const { maxTotalBytes, maxCompressionRatio } = this.limits;
    if (total > maxTotalBytes) throw unsafe(entryPath, `the archive expands beyond the ${maxTotalBytes}-byte limit`, this.written);
    const read = Math.max(this.archive.size ?? 0, this.archive.bytesRead?.() ?? 0);
    // Nothing to compare with (a folder, a registry's entries): only the total limit applies.
    if (read > 0 && total > this.ratioAllowance(read)) {
      throw unsafe(entryPath, `the compression ratio exceeds ${maxCompressionRatio}:1 (a decompression bomb?)`, this.written);
    }
    this.written = total;
  }

  /** The most bytes `archiveBytes` may expand to: the ratio, or the grace when that is more. */
  private ratioAllowance(archiveBytes: number): number {
    return Math.max(this.limits.ratioGraceBytes, this.limits.maxCompressionRatio * archiveBytes);
  }

  /**
   * `bytes`: the file's declared size plus what files admitted before it still have to write.
   * @throws {BentoportError} ERR_IO when `root`'s file system lacks room for `bytes` plus the reserve.
   */
  private async requireFreeSpace(entryPath: string, bytes: number, root: string): Promise<void> {
    const info = await statfs(root);
    const available = info.bavail * info.bsize;
    const needed = bytes + this.limits.freeSpaceReserveBytes;
    if (needed <= available) return;
    throw new BentoportError(
      'ERR_IO',
      `[extract] not enough free space for '${entryPath}': it needs ${formatMiB(needed)} (${needed} bytes), ${root} has ${formatMiB(available)} free`,
      { details: { entry: entryPath, neededBytes: needed, availableBytes: available } },
    );
  }
}

function formatMiB(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
