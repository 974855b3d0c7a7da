import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { apiVersion } from '@bentoport/spec';
import type { ArchiveEntry, ArchiveSource, CompressionPolicy, DecodeOptions, EncodeOptions, Format } from '@bentoport/spec';
import { effectiveClass, INFLATE_CHUNK_BYTES, optionChecks, pluginFailure } from '@bentoport/plugin-kit';
import { abortableEncoderOutput, cutIntoClassedPieces, decodeTar, encodeTar, encodeTarSegments, PieceBuffers } from '@bentoport/tar';
import type { TarSegment } from '@bentoport/tar';
import { DEFAULT_PIECE_SIZE, defaultConcurrency, deflateMode, parallelGzipPieces } from './parallel-gzip.js';
import { sniffTar } from './sniff.js';

/** Options of {@link tarFormat}. All are optional. */
export interface TarFormatOptions {
  /**
   * The deflate level (1–9) for `gz` data that is compressed with the classic setting. Leave it
   * unset to follow the policy: `auto` uses 6 (gzip's and GNU `tar czf`'s default) for
   * compressible data, `max` 9 for everything.
   * @default undefined (per policy: 6 for `auto`, 9 for `max`)
   */
  gzipLevel?: number;
  /**
   * How many 1 MiB pieces of the tar stream are compressed at once on the libuv thread pool.
   * Memory for `gz` output is about twice this many MiB. Use 1 to leave the other cores alone.
   * @default os.availableParallelism() + 1
   */
  concurrency?: number;
}

const COMPONENT = 'format-tar';
const FORMATS = ['tar', 'gz'] as const;
const COMPRESSION_POLICIES: readonly CompressionPolicy[] = ['auto', 'max', 'store'];
const check = optionChecks(COMPONENT);

/**
 * Tar and tar+gzip archives (BentoML format tokens `tar` and `gz`): streaming both ways,
 * reproducible, laid out like BentoML's own exports, with gzip spread over every core.
 *
 * @throws {BentoportError} ERR_INVALID_OPTION when `gzipLevel` or `concurrency` is out of range.
 * @throws {TypeError} when `options` or one of them is of the wrong type.
 * @example
 * ```ts
 * import { tarFormat } from '@bentoport/format-tar';
 *
 * const format = tarFormat();
 * const archive = format.encode(entries, { format: 'gz', compression: 'auto', signal });
 * archive.pipe(fs.createWriteStream('svc-v1.tar.gz'));
 *
 * for await (const entry of format.decode({ stream: () => fs.createReadStream('svc-v1.tar.gz') }, { format: 'gz' })) {
 *   console.log(entry.path, entry.type, entry.size);
 *   entry.open?.().resume(); // or leave it: unread bodies are skipped
 * }
 * ```
 */
export function tarFormat(options: TarFormatOptions = {}): Format {
  const given = check.object(options);
  // Unset means "per policy", so the fallback is never used.
  const gzipLevel = given.gzipLevel === undefined ? undefined : check.integer('gzipLevel', given.gzipLevel, 6, 1, 9);
  const concurrency = check.integer('concurrency', given.concurrency, defaultConcurrency(), 1);

  return {
    apiVersion,
    name: COMPONENT,
    formats: FORMATS,
    capabilities: { randomAccessDecode: false, symlinks: true, hardlinks: true, reproducible: true },

    sniff: (head: Uint8Array) => sniffTar(head),

    /**
     * @throws {BentoportError} ERR_UNSUPPORTED_FORMAT when `format` is not `tar` or `gz`.
     * The returned stream is destroyed with: the error of `entries` or of a body; ERR_IO when a
     * body delivers more or fewer bytes than its `size`; ERR_UNSUPPORTED_FORMAT for an entry of
     * type `other`; ERR_ABORTED when `signal` fires.
     */
    encode(entries: AsyncIterable<ArchiveEntry>, encodeOptions: EncodeOptions): Readable {
      const format = checkFormat(encodeOptions.format, 'write');
      const policy = check.oneOf('compression', encodeOptions.compression, COMPRESSION_POLICIES, 'auto');
      const where = { component: COMPONENT, format };
      return abortableEncoderOutput(
        (stop) =>
          format === 'gz'
            ? gzipTar(encodeTarSegments(entries, { ...where, signal: stop, classify: policy === 'auto' }), policy, gzipLevel, concurrency)
            : encodeTar(entries, { ...where, signal: stop }),
        { ...where, signal: encodeOptions.signal },
      );
    },

    /**
     * @throws {BentoportError} ERR_UNSUPPORTED_FORMAT when `format` is not `tar` or `gz`.
     * Iteration throws ERR_CORRUPT_ARCHIVE for bytes that are not a whole tar (or gzip) archive,
     * ERR_ABORTED when `signal` fires, and the source's own coded error when reading fails.
     */
    decode(source: ArchiveSource, decodeOptions: DecodeOptions): AsyncIterable<ArchiveEntry> {
      const format = checkFormat(decodeOptions.format, 'read');
      return decodeTar(source, {
        component: COMPONENT,
        format,
        signal: decodeOptions.signal,
        // Node's gunzip reads concatenated members (`cat a.gz b.gz`), as gzip itself does.
        ...(format === 'gz' ? { decompress: () => createGunzip({ chunkSize: INFLATE_CHUNK_BYTES }) } : {}),
      });
    },
  };
}

function checkFormat(format: string, operation: 'read' | 'write'): (typeof FORMATS)[number] {
  if (format === 'tar' || format === 'gz') return format;
  throw pluginFailure(COMPONENT, 'ERR_UNSUPPORTED_FORMAT', operation, String(format), 'format-tar handles only tar and gz');
}

/**
 * The tar stream's segments as one gzip member, compressed piece by piece on the thread pool with
 * each class's setting. The pieces are recycled buffers: a fresh 1 MiB buffer per piece lived
 * long enough to reach V8's old generation and left tens of MiB of dead pieces in the peak RSS.
 */
function gzipTar(segments: AsyncIterable<TarSegment>, policy: CompressionPolicy, gzipLevel: number | undefined, concurrency: number): AsyncGenerator<Buffer> {
  // In flight at once: `concurrency` pieces compressing, one waiting in mapInOrder, one filling.
  const buffers = new PieceBuffers(DEFAULT_PIECE_SIZE, concurrency + 2);
  return parallelGzipPieces(cutIntoClassedPieces(segments, DEFAULT_PIECE_SIZE, () => buffers.take()), {
    buffers,
    modeFor: (pieceClass) => deflateMode(effectiveClass(policy, pieceClass), policy, gzipLevel),
    headerMode: deflateMode(effectiveClass(policy, 'compressible'), policy, gzipLevel),
    concurrency,
  });
}
