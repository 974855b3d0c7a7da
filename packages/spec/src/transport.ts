import type { Readable, Writable } from 'node:stream';
import type { ApiVersion } from './api-version.js';
import type { ProgressListener } from './progress.js';

/**
 * Where bytes live, as resolved from a path or URL (BentoML's protocol/netloc/path/query split).
 * `host` holds BentoML's "resource": the bucket, or `user:pass@host:port`.
 */
export interface Location {
  /** `file`, `s3`, `ftp`, `sftp`, `http`, `https`, … */
  protocol: string;
  /** The URL's netloc verbatim (may carry `user:password@`), empty for local files. */
  host: string;
  /** For `file`, an absolute local path; otherwise the path inside the host, starting with `/` or empty. */
  path: string;
  /** The URL query string without `?`: BentoML's `params`, url-encoded. */
  query: string;
  /** The location as a URL-ish string with any password replaced by `***`, for messages. */
  display: string;
}

/** What a transport can do. Core falls back when a capability is missing; the conformance suite reads it. */
export interface TransportCapabilities {
  /** `read` honours `start`/`end`. */
  rangedReads: boolean;
  /** `list` is implemented. */
  list: boolean;
  /** `delete` is implemented. */
  delete: boolean;
  /** A write becomes visible only at `commit`, all at once (temp name + rename, multipart completion). */
  atomicCommit: boolean;
  /** An interrupted write can be continued with `write(…, { resume: true })`. */
  resumableWrites: boolean;
}

export interface TransportStat {
  type: 'file' | 'directory';
  /** Byte length (0 for a directory). */
  size: number;
  mtime?: Date;
  /** An opaque version marker (ETag, inode+mtime) that changes when the content does. */
  etag?: string;
}

export interface TransportListEntry {
  /** The entry's name relative to the listed location. */
  name: string;
  type: 'file' | 'directory';
  size: number;
}

export interface TransportReadOptions {
  /** First byte to read. Requires `capabilities.rangedReads`. @default 0 */
  start?: number;
  /** One past the last byte to read. Requires `capabilities.rangedReads`. @default end of file */
  end?: number;
  signal?: AbortSignal;
  /**
   * Receives `warning` events with `retry` details before each retry of a transient failure.
   * Core stamps the operation. @default undefined (nothing is reported)
   */
  onProgress?: ProgressListener;
}

export interface TransportWriteOptions {
  /** Expected total size, when known; lets a transport size its parts. */
  sizeHint?: number;
  /**
   * Continue an interrupted write to the same location instead of starting over, and keep this
   * one's partial state if it fails, for the next resume. Honoured where `capabilities.resumableWrites`.
   * @default false
   */
  resume?: boolean;
  signal?: AbortSignal;
  /**
   * Receives `notice` and `warning` events, such as the removal of a stale leftover (a temporary
   * file, an unfinished upload) that a killed earlier write to the same location left behind.
   * Core stamps the operation. A transport that has nothing to say ignores it.
   * @default undefined (nothing is reported)
   */
  onProgress?: ProgressListener;
}

/**
 * A two-phase write. Bytes written to `stream` stay invisible at the location until `commit`
 * resolves; `abort` removes every trace. Exactly one of the two must be called, after `stream`
 * has finished (commit) or at any time (abort).
 */
export interface TransportWriter {
  readonly stream: Writable;
  /** Make the bytes visible at the location, atomically where `capabilities.atomicCommit`. */
  commit(): Promise<void>;
  /** Discard what was written: no temp file, upload or part may remain. Never throws. */
  abort(reason?: unknown): Promise<void>;
}

/**
 * A byte mover plugin for one family of protocols.
 *
 * Error contract (checked by `@bentoport/transport-test-suite`):
 * - a missing location → `ERR_NOT_FOUND` from `stat`, `read` and `delete`;
 * - refused credentials → `ERR_AUTH`;
 * - an aborted signal → `ERR_ABORTED`;
 * - anything else → a coded BentoportError whose message names the transport, operation and
 *   location with credentials redacted.
 */
export interface Transport {
  readonly apiVersion: ApiVersion;
  /** The plugin's name, for messages: `transport-fs`. */
  readonly name: string;
  /** URL schemes handled: `['file']`. */
  readonly protocols: readonly string[];
  readonly capabilities: TransportCapabilities;
  /**
   * @throws {BentoportError} ERR_NOT_FOUND when nothing is at the location.
   */
  stat(location: Location, options?: { signal?: AbortSignal; onProgress?: ProgressListener }): Promise<TransportStat>;
  /**
   * Open the bytes at the location (or the range asked for) as a stream that honours backpressure.
   * @throws {BentoportError} ERR_NOT_FOUND when nothing is at the location.
   */
  read(location: Location, options?: TransportReadOptions): Promise<Readable>;
  /**
   * Start a two-phase write to the location; an existing object is replaced on commit. Before it
   * starts, a transport should remove what killed earlier writes to the same location left (their
   * temporary names, unfinished uploads; never a live writer's) and report each removal to
   * `options.onProgress`; that clean-up never fails the write. Whether a
   * missing parent directory is created is the protocol's custom: local files refuse it with
   * ERR_NOT_FOUND (as BentoML does), FTP and SFTP create it, object stores have none.
   * `commit` before the stream has finished is a TypeError; `commit` after `abort` rejects with
   * ERR_ABORTED; a stream whose signal fires errors with ERR_ABORTED.
   */
  write(location: Location, options?: TransportWriteOptions): Promise<TransportWriter>;
  /**
   * List the entries under a directory location. Present when `capabilities.list`.
   * @throws {BentoportError} ERR_NOT_FOUND when the directory does not exist.
   */
  list?(location: Location, options?: { signal?: AbortSignal }): Promise<TransportListEntry[]>;
  /**
   * Delete the object at the location. Present when `capabilities.delete`.
   * @throws {BentoportError} ERR_NOT_FOUND when nothing is at the location.
   */
  delete?(location: Location, options?: { signal?: AbortSignal }): Promise<void>;
}
