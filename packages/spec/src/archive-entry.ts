import type { Readable } from 'node:stream';

/** What an archive entry is. Device files and FIFOs never get this far: codecs report them as `other`. */
export type ArchiveEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

/**
 * One entry of an archive, codec-neutral. Encoders receive these from core; decoders yield them.
 *
 * Paths are POSIX, relative, without a leading `./` or a trailing `/`, and never empty: the
 * archive root is implicit (codecs that write a `.` root entry add it themselves).
 */
export interface ArchiveEntry {
  /** Relative POSIX path, e.g. `src/service.py`. As read from an archive it is not yet checked: see safe extraction. */
  path: string;
  type: ArchiveEntryType;
  /** Permission bits (`0o7777` mask) as stored; the extractor strips setuid, setgid and sticky. */
  mode: number;
  /** Modification time in seconds since the epoch (may be fractional). */
  mtime: number;
  /** Byte length of the body for `file`, 0 otherwise. */
  size: number;
  /** Symlink target as stored (`symlink`), or the archive path of the linked entry (`hardlink`). */
  linkTarget?: string;
  /**
   * Opens the body of a `file` entry: exactly `size` bytes. Call it at most once. A decoder's
   * next entry is produced only after this body was consumed (or, if never opened, skipped).
   */
  open?: () => Readable;
  /**
   * The whole body of a small `file` entry in one buffer, offered by producers that hold it or
   * read it in one call (a small file on disk, a body the decoder buffers anyway), so that a
   * consumer that wants the bytes whole (an encoder, safe extraction) makes no stream per file:
   * for a bento of 10,000 source files the stream machinery cost more than the file system.
   * Yields the bytes there are: a body whose length is not `size` is the consumer's error to
   * report, as with `open`. Use this or `open`, once. Absent for large bodies, which stream.
   * @default undefined (stream the body with `open`)
   */
  readWhole?: () => Buffer | Promise<Buffer>;
}
