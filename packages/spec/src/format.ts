import type { Readable } from 'node:stream';
import type { ApiVersion } from './api-version.js';
import type { ArchiveEntry } from './archive-entry.js';

/** What a codec can do. Core and the tests read these instead of guessing. */
export interface FormatCapabilities {
  /**
   * The decoder needs random access (size + ranged reads), e.g. zip's central directory. Core then
   * supplies `readRange` from the transport's ranged reads, or spools the input to the staging
   * directory first.
   */
  randomAccessDecode: boolean;
  /** The encoder stores symlinks (tar does; zip as we write it does not, so core sends link targets). Decoders may still yield links from foreign archives. */
  symlinks: boolean;
  /** The container stores hard links. */
  hardlinks: boolean;
  /** The same entries always encode to the same bytes. */
  reproducible: boolean;
}

/** A readable archive, as the decoder sees it. */
export interface ArchiveSource {
  /** The whole archive from its first byte. May be called once. */
  stream(): Readable;
  /** Byte length, when known. Always set for a codec with `randomAccessDecode`. */
  size?: number;
  /**
   * Bytes `start` to `end` (exclusive). Always set for a codec with `randomAccessDecode`; may be
   * called many times and concurrently.
   */
  readRange?(start: number, end: number): Readable;
}

/** How hard compressed formats work. `auto` is fast where compressing cannot pay. */
export type CompressionPolicy = 'auto' | 'max' | 'store';

export interface EncodeOptions {
  /** The format token to write, one of the codec's `formats`. */
  format: string;
  /** @default 'auto' */
  compression?: CompressionPolicy;
  signal?: AbortSignal;
}

export interface DecodeOptions {
  /** The format token to read, one of the codec's `formats`. */
  format: string;
  signal?: AbortSignal;
}

/**
 * An archive codec plugin: turns an entry stream into bytes and back.
 *
 * Encoders receive entries sorted by path, with a parent directory before its children, and must
 * write them in that order. Decoders yield entries in archive order without checking paths (core's
 * safe extraction does).
 */
export interface Format {
  readonly apiVersion: ApiVersion;
  /** The plugin's name, for messages: `format-tar`. */
  readonly name: string;
  /** BentoML format tokens this codec reads and writes: `['tar', 'gz']`. */
  readonly formats: readonly string[];
  readonly capabilities: FormatCapabilities;
  /**
   * The format token whose magic bytes start `head` (at least the first 512 bytes of the file,
   * fewer if the file is shorter), or undefined.
   */
  sniff(head: Uint8Array): string | undefined;
  /**
   * Encode entries into archive bytes. Errors (also from `entries`) destroy the returned stream.
   * @throws {BentoportError} ERR_UNSUPPORTED_FORMAT when `format` is not one of `formats`.
   */
  encode(entries: AsyncIterable<ArchiveEntry>, options: EncodeOptions): Readable;
  /**
   * Decode archive bytes into entries.
   * @throws {BentoportError} ERR_CORRUPT_ARCHIVE when the bytes are not a valid archive of `format`.
   */
  decode(source: ArchiveSource, options: DecodeOptions): AsyncIterable<ArchiveEntry>;
}
