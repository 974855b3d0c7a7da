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
   * next entry is produced only after this body was consumed (or, if never opened, skipped),
   * unless the entry has `independentBody`.
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
  /**
   * True when this body reads its own bytes of the archive, apart from the decoder's position (a
   * random-access decoder gives a large body its own ranged read): the decoder then produces the
   * next entries without waiting for it, and a consumer may keep reading it while it takes them.
   * Why: an import can create a bento's thousands of small files while a large weight file is
   * still being inflated and written, instead of one after the other. A consumer that reads each
   * body before asking for the next entry may ignore this.
   * @default undefined (the next entry comes only after this body was consumed or skipped)
   */
  independentBody?: boolean;
}
