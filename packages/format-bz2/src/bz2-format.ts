import { availableParallelism } from 'node:os';
import type { Readable } from 'node:stream';
import { apiVersion } from '@bentoport/spec';
import type { ArchiveEntry, ArchiveSource, CompressionPolicy, DecodeOptions, EncodeOptions, Format } from '@bentoport/spec';
import { optionChecks, pluginFailure } from '@bentoport/plugin-kit';
import { abortableEncoderOutput, decodeTar, encodeTarSegments } from '@bentoport/tar';
import { bzip2Encode } from './bzip2-encoder.js';
import { createBunzip2 } from './bunzip2-transform.js';

/** Options of {@link bz2Format}. All are optional. */
export interface Bz2FormatOptions {
  /**
   * Worker threads compressing (export) or decoding (import) bzip2 blocks at once (libbzip2 in
   * WebAssembly, one block per call, so this is what spreads the work over cores). Use 1 to
   * leave the other cores alone.
   * @default os.availableParallelism() to compress; to decode, at most 8 of them (see createBunzip2)
   */
  concurrency?: number;
}

const BZIP2_MAGIC = [0x42, 0x5a, 0x68];
const COMPONENT = 'format-bz2';
const COMPRESSION_POLICIES: readonly CompressionPolicy[] = ['auto', 'max', 'store'];
const check = optionChecks(COMPONENT);

/**
 * `.tar.bz2` archives (format token `bz2`): @bentoport/tar's tar in ONE bzip2 stream, written
 * and read block by block on worker threads. bzip2 has no stored
 * blocks and one setting worth having (`-9`), so every compression policy writes the same bytes.
 * The output is byte for byte what `bzip2 -9` writes for the same tar; libbzip2 (WebAssembly)
 * compresses one block per worker thread.
 *
 * @throws {BentoportError} ERR_INVALID_OPTION when `concurrency` is not a positive integer.
 * @throws {TypeError} when `options` or one of them is of the wrong type.
 * @example
 * ```ts
 * import { createBentoport } from '@bentoport/core';
 * import { bz2Format } from '@bentoport/format-bz2';
 * import { fsTransport } from '@bentoport/transport-fs';
 *
 * const bentoport = createBentoport({ formats: [bz2Format()], transports: [fsTransport()] });
 * await bentoport.importBento('./svc.tar.bz2');
 * ```
 */
export function bz2Format(options: Bz2FormatOptions = {}): Format {
  const concurrency = check.integer('concurrency', check.object(options).concurrency, availableParallelism(), 1);

  return {
    apiVersion,
    name: COMPONENT,
    formats: ['bz2'],
    capabilities: { randomAccessDecode: false, symlinks: true, hardlinks: true, reproducible: true },

    sniff: (head: Uint8Array) =>
      BZIP2_MAGIC.every((byte, index) => head[index] === byte) && (head[3] ?? 0) >= 0x31 && (head[3] ?? 0) <= 0x39 ? 'bz2' : undefined,

    /**
     * @throws {BentoportError} ERR_UNSUPPORTED_FORMAT when `format` is not `bz2`;
     * ERR_INVALID_OPTION for an unknown compression policy. The returned stream is destroyed
     * with: the error of `entries` or of a body; ERR_IO when a body delivers more or fewer bytes
     * than its `size`; ERR_UNSUPPORTED_FORMAT for an entry of type `other`; ERR_ABORTED when
     * `signal` fires.
     */
    encode(entries: AsyncIterable<ArchiveEntry>, encodeOptions: EncodeOptions): Readable {
      checkFormat(encodeOptions.format, 'write');
      // Every policy writes the same bytes (see above), but a policy that does not exist is still a mistake.
      check.oneOf('compression', encodeOptions.compression, COMPRESSION_POLICIES, 'auto');
      const where = { component: COMPONENT, format: 'bz2' };
      return abortableEncoderOutput(
        (stop) => bzip2Encode(segmentBytes(encodeTarSegments(entries, { ...where, signal: stop })), concurrency),
        { ...where, signal: encodeOptions.signal },
      );
    },

    /**
     * @throws {BentoportError} ERR_UNSUPPORTED_FORMAT when `format` is not `bz2`. Iteration throws
     * ERR_CORRUPT_ARCHIVE for bytes that are not a whole tar in bzip2 (one or more streams),
     * ERR_ABORTED when `signal` fires, and the source's own coded error when reading fails.
     */
    decode(source: ArchiveSource, decodeOptions: DecodeOptions): AsyncIterable<ArchiveEntry> {
      checkFormat(decodeOptions.format, 'read');
      return decodeTar(source, { component: COMPONENT, format: 'bz2', signal: decodeOptions.signal, decompress: () => createBunzip2(options.concurrency === undefined ? {} : { concurrency }) });
    },
  };
}

async function* segmentBytes(segments: AsyncIterable<{ bytes: Buffer }>): AsyncGenerator<Buffer> {
  for await (const segment of segments) yield segment.bytes;
}

function checkFormat(format: string, operation: 'read' | 'write'): void {
  if (format !== 'bz2') throw pluginFailure(COMPONENT, 'ERR_UNSUPPORTED_FORMAT', operation, String(format), 'format-bz2 handles only bz2');
}
