import type { Readable } from 'node:stream';
import type { ArchiveEntry, ArchiveSource, DecodeOptions, EncodeOptions, Format, FormatCapabilities } from '@bentoport/spec';
import { decodeLines } from './line-decoder.js';
import { encodeLines } from './line-encoder.js';
import { COMPONENT, MAGIC, TOKEN, lineFailure } from './line-layout.js';

/** Options of {@link lineFormat}. */
export interface LineFormatOptions {
  /**
   * Decode through `source.readRange` (and `source.size`) instead of `source.stream()`, and declare
   * `randomAccessDecode`: the way to exercise a consumer's random-access path.
   * @default false
   */
  randomAccessDecode?: boolean;
  /**
   * Store symlinks. When false the capability says so and the encoder refuses them with
   * ERR_UNSUPPORTED_FORMAT.
   * @default true
   */
  symlinks?: boolean;
  /**
   * Store hard links. When false the capability says so and the encoder refuses them with
   * ERR_UNSUPPORTED_FORMAT.
   * @default true
   */
  hardlinks?: boolean;
}

const MAGIC_BYTES = Buffer.from(MAGIC);

/**
 * A minimal archive format (token `lines`): one JSON header line per entry, each file's body after
 * its header, and a trailer with the entry count and a SHA-256 of everything before it. It is the
 * reference the format conformance suite tests itself against, and a small, readable example of
 * the `Format` contract: streaming with backpressure both ways, reproducible, every failure coded.
 *
 * It is not meant for real archives: it does not compress, and nothing but bentoport reads it.
 *
 * @example
 * ```ts
 * import { lineFormat, runFormatSuite } from '@bentoport/format-test-suite';
 *
 * runFormatSuite({ format: lineFormat() });
 * ```
 */
export function lineFormat(options: LineFormatOptions = {}): Format {
  if (typeof options !== 'object' || options === null) throw new TypeError('lineFormat: options must be an object');
  const capabilities: FormatCapabilities = {
    randomAccessDecode: options.randomAccessDecode === true,
    symlinks: options.symlinks !== false,
    hardlinks: options.hardlinks !== false,
    reproducible: true,
  };
  return {
    apiVersion: 1,
    name: COMPONENT,
    formats: [TOKEN],
    capabilities,

    sniff(head: Uint8Array): string | undefined {
      return head.length >= MAGIC_BYTES.length && MAGIC_BYTES.equals(head.subarray(0, MAGIC_BYTES.length)) ? TOKEN : undefined;
    },

    /**
     * @throws {BentoportError} ERR_UNSUPPORTED_FORMAT when `format` is not `lines`. The stream is
     * destroyed with the error of `entries` or of a body, ERR_IO when a body is not `size` bytes,
     * ERR_UNSUPPORTED_FORMAT for an entry type switched off or `other`, ERR_ABORTED when the
     * signal fires.
     */
    encode(entries: AsyncIterable<ArchiveEntry>, encodeOptions: EncodeOptions): Readable {
      checkToken(encodeOptions.format, 'write');
      return encodeLines(entries, { token: TOKEN, symlinks: capabilities.symlinks, hardlinks: capabilities.hardlinks }, encodeOptions.signal);
    },

    /**
     * @throws {BentoportError} ERR_UNSUPPORTED_FORMAT when `format` is not `lines`. Iteration throws
     * ERR_CORRUPT_ARCHIVE for damaged or truncated bytes (before it completes), ERR_ABORTED when the
     * signal fires, and the source's own errors.
     */
    decode(source: ArchiveSource, decodeOptions: DecodeOptions): AsyncIterable<ArchiveEntry> {
      checkToken(decodeOptions.format, 'read');
      return decodeLines(source, TOKEN, capabilities.randomAccessDecode ? 'ranges' : 'stream', decodeOptions.signal);
    },
  };
}

function checkToken(token: string, operation: 'read' | 'write'): void {
  if (token !== TOKEN) throw lineFailure('ERR_UNSUPPORTED_FORMAT', `${operation} ${String(token)}`, `${COMPONENT} handles only ${TOKEN}`);
}
