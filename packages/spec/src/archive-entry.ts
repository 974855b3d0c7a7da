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
}
