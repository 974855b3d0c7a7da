import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import { apiVersion } from '@bentoport/spec';
import type { ArchiveEntry, ArchiveSource, CompressionPolicy, DecodeOptions, EncodeOptions, Format } from '@bentoport/spec';
import { abortedFailure, optionChecks, pluginFailure } from '@bentoport/plugin-kit';
import { readZip } from './zip-reader.js';
import { writeZip } from './zip-writer.js';

/** Options of {@link zipFormat}. Every option has a sensible default; none is required. */
export interface ZipFormatOptions {
  /**
   * Uncompressed bytes per deflate piece. Each piece is compressed independently (primed with the
   * previous piece's last 32 KiB), so this is the unit of parallel work and of memory: about
   * `concurrency` pieces, input plus output, are held at once. It also shapes the compressed bytes,
   * so keep it fixed where archives must be reproducible. Between 32 KiB and 64 MiB.
   * @default 1048576 (1 MiB)
   */
  deflatePieceSize?: number;
  /**
   * How many pieces are compressed at once (on libuv's thread pool). Does not change the output bytes.
   * @default os.availableParallelism()
   */
  concurrency?: number;
}

const COMPONENT = 'format-zip';
const FORMAT_TOKEN = 'zip';
const DEFAULT_PIECE_SIZE = 1024 * 1024;
const COMPRESSION_POLICIES: readonly CompressionPolicy[] = ['auto', 'max', 'store'];
const check = optionChecks(COMPONENT);

function checkFormatToken(format: string, operation: 'read' | 'write'): void {
  if (format !== FORMAT_TOKEN) throw pluginFailure(COMPONENT, 'ERR_UNSUPPORTED_FORMAT', operation, String(format), 'format-zip handles only zip');
}

function resolveOptions(options: ZipFormatOptions): { pieceSize: number; concurrency: number } {
  const given = check.object(options);
  const pieceSize = check.integer('deflatePieceSize', given.deflatePieceSize, DEFAULT_PIECE_SIZE, 32 * 1024, 64 * 1024 * 1024);
  const concurrency = check.integer('concurrency', given.concurrency, Math.max(1, availableParallelism()), 1, 256);
  return { pieceSize, concurrency };
}

/**
 * The zip codec: format token `zip`. Writes Zip64-capable zips in one streaming pass with
 * parallel deflate, laid out like the zips BentoML writes (Python's zipfile), and reads any
 * stored or deflated zip through ranged reads.
 *
 * @throws {BentoportError} ERR_INVALID_OPTION when an option is out of range.
 * @throws {TypeError} when `options` or one of them is of the wrong type.
 * @example
 * ```ts
 * import { zipFormat } from '@bentoport/format-zip';
 *
 * const zip = zipFormat();
 * const bytes = zip.encode(entries, { format: 'zip', compression: 'auto', signal });
 * for await (const entry of zip.decode(source, { format: 'zip' })) console.log(entry.path);
 * ```
 */
export function zipFormat(options: ZipFormatOptions = {}): Format {
  const { pieceSize, concurrency } = resolveOptions(options);
  return {
    apiVersion,
    name: COMPONENT,
    formats: [FORMAT_TOKEN],
    // Links are dereferenced by core before encoding: Python's zipfile would extract a stored
    // link as a small text file holding its target.
    capabilities: { randomAccessDecode: true, symlinks: false, hardlinks: false, reproducible: true },

    sniff(head: Uint8Array): string | undefined {
      // A local file header starts every non-empty zip; an empty zip is only its end record.
      if (head.length < 4 || head[0] !== 0x50 || head[1] !== 0x4b) return undefined;
      if ((head[2] === 0x03 && head[3] === 0x04) || (head[2] === 0x05 && head[3] === 0x06)) return FORMAT_TOKEN;
      return undefined;
    },

    /**
     * @throws {BentoportError} ERR_UNSUPPORTED_FORMAT (synchronously) when `format` is not `zip`,
     *   ERR_INVALID_OPTION for an unknown compression policy. The returned stream is destroyed with
     *   ERR_UNSUPPORTED_FORMAT for a symlink, hard link or other entry, ERR_IO when a body delivers
     *   more or fewer bytes than its size, ERR_ABORTED when the signal fires, or the entries' own error.
     */
    encode(entries: AsyncIterable<ArchiveEntry>, encodeOptions: EncodeOptions): Readable {
      checkFormatToken(encodeOptions.format, 'write');
      const compression = check.oneOf('compression', encodeOptions.compression, COMPRESSION_POLICIES, 'auto');
      const signal = encodeOptions.signal;
      const output = Readable.from(writeZip(entries, { compression, pieceSize, concurrency, signal }), { objectMode: false });
      if (signal !== undefined) {
        // Destroy at once even while nobody is reading (the generator only notices on its next step).
        const onAbort = (): void => {
          output.destroy(abortedFailure(COMPONENT, 'write', FORMAT_TOKEN, signal));
        };
        if (signal.aborted) onAbort();
        else {
          signal.addEventListener('abort', onAbort, { once: true });
          output.once('close', () => signal.removeEventListener('abort', onAbort));
        }
      }
      return output;
    },

    /**
     * Needs `source.size` and `source.readRange` (core provides them, spooling a non-seekable
     * source to disk first when the transport has no ranged reads).
     * @throws {BentoportError} ERR_UNSUPPORTED_FORMAT (synchronously) when `format` is not `zip`.
     *   While iterating: ERR_CORRUPT_ARCHIVE for garbage, truncation, a bad CRC-32 or size;
     *   ERR_UNSUPPORTED_FORMAT for encrypted entries, methods other than stored and deflate, or split
     *   archives; ERR_ABORTED when the signal fires; the source's own errors otherwise.
     */
    decode(source: ArchiveSource, decodeOptions: DecodeOptions): AsyncIterable<ArchiveEntry> {
      checkFormatToken(decodeOptions.format, 'read');
      return readZip(source, decodeOptions.signal);
    },
  };
}
