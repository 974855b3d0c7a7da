import type { Readable } from 'node:stream';
import { BentoportError, effectiveClass } from '@bentoport/core';
import type { ArchiveEntry, ArchiveSource, CompressionPolicy, DecodeOptions, EncodeOptions, Format } from '@bentoport/core';
import { DEFAULT_PIECE_SIZE, defaultConcurrency, deflateMode, parallelGzipPieces } from './parallel-gzip.js';
import { cutIntoClassedPieces } from './pieces.js';
import { abortableEncoderOutput } from './pull-readable.js';
import { sniffTar } from './sniff.js';
import { decodeTar } from './tar-decoder.js';
import { encodeTar, encodeTarSegments } from './tar-encoder.js';

// The tar container's building blocks, for formats that compress it differently (format-xz,
// format-bz2). They depend on this public entry point only, never on its files.
export { encodeTarSegments, type TarSegment } from './tar-encoder.js';
export { decodeTar, type DecodeTarStreamOptions } from './tar-decoder.js';
export { cutIntoClassedPieces, mapInOrder, type ClassedPiece } from './pieces.js';
export { abortableEncoderOutput } from './pull-readable.js';

// The exact size of an uncompressed tar before encoding it (registry-bentocloud's presigned PUT).
export { tarByteLength } from './tar-encoder.js';

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

const FORMATS = ['tar', 'gz'] as const;

/**
 * Tar and tar+gzip archives (BentoML format tokens `tar` and `gz`): streaming both ways,
 * reproducible, laid out like BentoML's own exports, with gzip spread over every core.
 *
 * @throws {BentoportError} ERR_INVALID_OPTION when `gzipLevel` or `concurrency` is out of range.
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
  if (typeof options !== 'object' || options === null) throw new TypeError('tarFormat options must be an object');
  const { gzipLevel, concurrency } = options;
  if (gzipLevel !== undefined && !(Number.isInteger(gzipLevel) && gzipLevel >= 1 && gzipLevel <= 9)) {
    throw new BentoportError('ERR_INVALID_OPTION', `[format-tar] options: gzipLevel must be an integer from 1 to 9, got ${String(gzipLevel)}`);
  }
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
    throw new BentoportError('ERR_INVALID_OPTION', `[format-tar] options: concurrency must be a positive integer, got ${String(concurrency)}`);
  }

  return {
    apiVersion: 1,
    name: 'format-tar',
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
      const controller = new AbortController();
      const policy = checkPolicy(encodeOptions.compression ?? 'auto', format);
      const bytes =
        format === 'gz'
          ? parallelGzipPieces(cutIntoClassedPieces(encodeTarSegments(entries, format, controller.signal, policy === 'auto'), DEFAULT_PIECE_SIZE), {
              modeFor: (pieceClass) => deflateMode(effectiveClass(policy, pieceClass), policy, gzipLevel),
              headerMode: deflateMode(effectiveClass(policy, 'compressible'), policy, gzipLevel),
              concurrency: concurrency ?? defaultConcurrency(),
            })
          : encodeTar(entries, format, controller.signal);
      return abortableEncoderOutput(bytes, controller, encodeOptions.signal, `[format-tar] write ${format}`);
    },

    /**
     * @throws {BentoportError} ERR_UNSUPPORTED_FORMAT when `format` is not `tar` or `gz`.
     * Iteration throws ERR_CORRUPT_ARCHIVE for bytes that are not a whole tar (or gzip) archive,
     * ERR_ABORTED when `signal` fires, and the source's own coded error when reading fails.
     */
    decode(source: ArchiveSource, decodeOptions: DecodeOptions): AsyncIterable<ArchiveEntry> {
      const format = checkFormat(decodeOptions.format, 'read');
      return decodeTar(source, format, decodeOptions.signal);
    },
  };
}

function checkFormat(format: string, operation: 'read' | 'write'): (typeof FORMATS)[number] {
  if (format === 'tar' || format === 'gz') return format;
  throw new BentoportError('ERR_UNSUPPORTED_FORMAT', `[format-tar] ${operation} ${String(format)}: format-tar handles only tar and gz`);
}

function checkPolicy(policy: CompressionPolicy, format: string): CompressionPolicy {
  if (policy === 'auto' || policy === 'max' || policy === 'store') return policy;
  throw new BentoportError('ERR_INVALID_OPTION', `[format-tar] write ${format}: unknown compression policy ${String(policy)}`);
}
