import { availableParallelism } from 'node:os';
import type { Readable } from 'node:stream';
import { apiVersion } from '@bentoport/spec';
import type { ArchiveEntry, ArchiveSource, CompressionPolicy, DecodeOptions, EncodeOptions, Format } from '@bentoport/spec';
import { bufferGarbageCollector, effectiveClass, optionChecks, pluginFailure } from '@bentoport/plugin-kit';
import { abortableEncoderOutput, cutIntoClassedPieces, decodeTar, encodeTarSegments, mapInOrder, PieceBuffers } from '@bentoport/tar';
import type { ClassedPiece } from '@bentoport/tar';
import { LiteralEncoderPool } from './literal-encoder-pool.js';
import { encodePiece } from './lzma2-encoder.js';
import { parallelXzDecoder } from './parallel-xz-decoder.js';
import { indexAndFooter, streamHeader } from './xz-container.js';
import type { BlockRecord, EncodedBlock } from './xz-container.js';

/** Options of {@link xzFormat}. All are optional. */
export interface XzFormatOptions {
  /**
   * How many blocks are compressed, or decoded, at once, each by liblzma on a thread of its own
   * or, for weights, by one of as many literal-encoder worker threads.
   * Memory for encoding is about `concurrency` × (25 MiB + 2 × `blockSize`); for decoding about
   * (`concurrency` + 1) × 2 × the file's block size. Use 1 to leave the other cores alone.
   * @default os.availableParallelism()
   */
  concurrency?: number;
  /**
   * Uncompressed bytes per xz block (64 KiB to 64 MiB). Larger blocks compress text slightly
   * better and cost more memory per encoder.
   * @default 2097152 (2 MiB)
   */
  blockSize?: number;
  /**
   * The most memory the decoder may use, in bytes; archives that need more (a dictionary above
   * it) fail with ERR_CORRUPT_ARCHIVE instead of allocating it. xz's own presets need at most
   * 65 MiB (`xz -9`).
   * @default 268435456 (256 MiB)
   */
  decoderMemoryLimit?: number;
}

const COMPONENT = 'format-xz';
const FORMATS = ['bento', 'bentomodel', 'xz'] as const;
type XzToken = (typeof FORMATS)[number];
const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const COMPRESSION_POLICIES: readonly CompressionPolicy[] = ['auto', 'max', 'store'];
const check = optionChecks(COMPONENT);

/**
 * BentoML's native archives, `.bento` and `.bentomodel`, and `.tar.xz` (format tokens `bento`,
 * `bentomodel`, `xz`): a tar (@bentoport/tar's, laid out as BentoML writes it) in ONE xz
 * stream whose blocks are compressed independently on every core. Streaming both ways, bounded
 * memory, reproducible under every compression policy.
 *
 * Compression policy: `auto` (default) samples each large file: compressible data gets xz preset
 * 6's settings, dense data (model weights) a position-aware literal-only LZMA2 encoder on worker
 * threads when its bytes look like float32 or 16-bit values (preset 0 otherwise), incompressible data is stored in LZMA2
 * uncompressed chunks; `max` uses preset 6's settings for everything; `store` stores everything.
 *
 * @throws {BentoportError} ERR_INVALID_OPTION when an option is out of range.
 * @throws {TypeError} when `options` or one of them is of the wrong type.
 * @example
 * ```ts
 * import { createBentoport } from '@bentoport/core';
 * import { tarFormat } from '@bentoport/format-tar';
 * import { xzFormat } from '@bentoport/format-xz';
 * import { fsTransport } from '@bentoport/transport-fs';
 *
 * const bentoport = createBentoport({ formats: [xzFormat(), tarFormat()], transports: [fsTransport()] });
 * await bentoport.exportBento('iris_classifier:latest', './out/'); // ./out/iris_classifier-<version>.bento
 * ```
 */
export function xzFormat(options: XzFormatOptions = {}): Format {
  const given = check.object(options);
  const concurrency = check.integer('concurrency', given.concurrency, availableParallelism(), 1);
  const blockSize = check.integer('blockSize', given.blockSize, 2 * 1024 * 1024, 64 * 1024, 64 * 1024 * 1024);
  const decoderMemoryLimit = check.integer('decoderMemoryLimit', given.decoderMemoryLimit, 256 * 1024 * 1024, 1024 * 1024);

  return {
    apiVersion,
    name: COMPONENT,
    formats: FORMATS,
    capabilities: { randomAccessDecode: false, symlinks: true, hardlinks: true, reproducible: true },

    sniff: (head: Uint8Array) => (XZ_MAGIC.every((byte, index) => head[index] === byte) ? 'xz' : undefined),

    /**
     * @throws {BentoportError} ERR_UNSUPPORTED_FORMAT when `format` is not `bento`, `bentomodel`
     * or `xz`; ERR_INVALID_OPTION for an unknown compression policy. The returned stream is
     * destroyed with: the error of `entries` or of a body; ERR_IO when a body delivers more or
     * fewer bytes than its `size`; ERR_UNSUPPORTED_FORMAT for an entry of type `other`;
     * ERR_ABORTED when `signal` fires.
     */
    encode(entries: AsyncIterable<ArchiveEntry>, encodeOptions: EncodeOptions): Readable {
      const format = checkFormat(encodeOptions.format, 'write');
      const policy = check.oneOf('compression', encodeOptions.compression, COMPRESSION_POLICIES, 'auto');
      const where = { component: COMPONENT, format };
      return abortableEncoderOutput((stop) => {
        const segments = encodeTarSegments(entries, { ...where, signal: stop, classify: policy === 'auto' });
        // In flight at once: `concurrency` pieces compressing, one waiting in mapInOrder, one filling.
        const buffers = new PieceBuffers(blockSize, concurrency + 2);
        return xzStream(cutIntoClassedPieces(segments, blockSize, () => buffers.take()), policy, concurrency, buffers);
      }, { ...where, signal: encodeOptions.signal });
    },

    /**
     * @throws {BentoportError} ERR_UNSUPPORTED_FORMAT when `format` is not `bento`, `bentomodel`
     * or `xz`. Iteration throws ERR_CORRUPT_ARCHIVE for bytes that are not a whole tar in xz
     * (one or more streams, any number of blocks, any check type), ERR_ABORTED when `signal`
     * fires, and the source's own coded error when reading fails.
     */
    decode(source: ArchiveSource, decodeOptions: DecodeOptions): AsyncIterable<ArchiveEntry> {
      const format = checkFormat(decodeOptions.format, 'read');
      return decodeTar(source, {
        component: COMPONENT,
        format,
        signal: decodeOptions.signal,
        // Any number of streams (what `cat a.xz b.xz` or pxz make) is one input; blocks with
        // sizes in their headers are decoded side by side.
        decompress: () => parallelXzDecoder({ concurrency, memoryLimit: decoderMemoryLimit }),
      });
    },
  };
}

/**
 * One xz stream: header, the blocks in order as they finish, one index over all of them, footer.
 * A piece's buffer goes back to `buffers` as soon as its block is encoded, unless the block is
 * made of the piece's own bytes (stored, see `storedLzma2`): every other block is a copy.
 */
async function* xzStream(pieces: AsyncIterable<ClassedPiece>, policy: CompressionPolicy, concurrency: number, buffers: PieceBuffers): AsyncGenerator<Buffer> {
  // Started on the first piece of weights only: an archive of source files never pays for workers.
  let pool: LiteralEncoderPool | undefined;
  // Under `max` every piece gets preset 6, as documented: no literal coding.
  const literalPool = policy === 'auto' ? () => (pool ??= new LiteralEncoderPool(concurrency)) : undefined;
  try {
    yield streamHeader();
    const records: BlockRecord[] = [];
    // The file chunks the pieces are copied from, and the blocks once written, die soon but not
    // young: see bufferGarbageCollector.
    const garbage = bufferGarbageCollector();
    const encode = async (piece: ClassedPiece): Promise<EncodedBlock> => {
      const pieceClass = effectiveClass(policy, piece.class);
      const block = await encodePiece(piece.bytes, pieceClass, literalPool);
      garbage.passed(piece.bytes.length);
      if (pieceClass !== 'incompressible') buffers.recycle(piece.bytes);
      return block;
    };
    const blocks = mapInOrder(pieces, encode, concurrency);
    for await (const block of blocks) {
      records.push(block.record);
      yield* block.bytes;
    }
    yield indexAndFooter(records);
  } finally {
    await pool?.close();
  }
}

function checkFormat(format: string, operation: 'read' | 'write'): XzToken {
  if ((FORMATS as readonly string[]).includes(format)) return format as XzToken;
  throw pluginFailure(COMPONENT, 'ERR_UNSUPPORTED_FORMAT', operation, String(format), 'format-xz handles only bento, bentomodel and xz');
}
