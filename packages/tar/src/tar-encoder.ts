import { addAbortSignal } from 'node:stream';
import type { Readable } from 'node:stream';
import type { ArchiveEntry, BentoportError, ErrorCode } from '@bentoport/spec';
import { CLASSIFY_MIN_BYTES, CLASSIFY_SAMPLE_BYTES, abortedFailure, bufferGarbageCollector, classifySample, gatherChunks, pluginFailure } from '@bentoport/plugin-kit';
import type { CompressibilityClass } from '@bentoport/plugin-kit';
import { BLOCK_SIZE, RECORD_SIZE, TYPEFLAG, encodeMemberHeader, paddingFor } from './tar-header.js';
import type { TarHeaderFields } from './tar-header.js';

const ZERO_BLOCKS = Buffer.alloc(2 * BLOCK_SIZE);

/**
 * A stretch of the tar stream with the compressibility class of what it holds: headers, small
 * files and padding are `compressible`; the body of a file of {@link CLASSIFY_MIN_BYTES} or more
 * carries the class of its first {@link CLASSIFY_SAMPLE_BYTES} (when classification is on).
 */
export interface TarSegment {
  bytes: Buffer;
  class: CompressibilityClass;
}

/** Who writes which token (for messages), what stops the bodies, and whether to classify. */
export interface EncodeTarOptions {
  /**
   * The plugin named in error messages: `[format-xz] write bento: …`.
   * @default 'tar'
   */
  component?: string;
  /**
   * The format token being written, named in error messages only.
   * @default 'tar'
   */
  format?: string;
  /** Aborts the body being read (the `stop` signal of `abortableEncoderOutput`). */
  signal?: AbortSignal;
  /**
   * Sample every body of {@link CLASSIFY_MIN_BYTES} or more and tag its segments with its class
   * (see `classifySample`); otherwise every segment is `compressible`. Only
   * {@link encodeTarSegments} reads it.
   * @default false
   */
  classify?: boolean;
}

/** Who is writing what, for messages: `[format-xz] write bento: …`. */
interface Writer {
  component: string;
  format: string;
}

/**
 * The tar byte stream for `entries`, as plain bytes. See {@link encodeTarSegments}. Asks V8 for
 * a young collection every 8 MiB of output, on the caller's thread (see README, "Memory").
 * @example
 * ```ts
 * const where = { component: 'format-tar', format: 'tar' };
 * const archive = abortableEncoderOutput((stop) => encodeTar(entries, { ...where, signal: stop }), { ...where, signal });
 * ```
 */
export async function* encodeTar(entries: AsyncIterable<ArchiveEntry> | Iterable<ArchiveEntry>, options: EncodeTarOptions = {}): AsyncGenerator<Buffer> {
  // Headers, small files and padding gathered into large chunks: one write each downstream.
  const chunks = gatherChunks(plainBytes(encodeTarSegments(entries, { ...options, classify: false })));
  // The file reads pass straight on to the output and die within a few chunks, with little else
  // allocated: without young collections of our own they wait for V8's next one by tens of MiB
  // (see YOUNG_BUFFER_GARBAGE_INTERVAL_BYTES).
  const garbage = bufferGarbageCollector({ collection: 'young' });
  for await (const chunk of chunks) {
    garbage.passed(chunk.length);
    yield chunk;
  }
}

async function* plainBytes(segments: AsyncIterable<TarSegment>): AsyncGenerator<Buffer> {
  for await (const segment of segments) yield segment.bytes;
}

/**
 * The tar byte stream for `entries`, in the layout current BentoML writes (CPython
 * `shutil.make_archive`): a `./` root directory first, every name prefixed with `./`,
 * directories with a trailing `/`, and the end marker padded to a 10240-byte record.
 *
 * Bodies are passed through chunk by chunk as their streams deliver them, so memory stays at a
 * few chunks whatever the file size. `options.signal` aborts the body being read.
 *
 * The generator fails with the error of `entries` or of a body; ERR_IO when a body delivers more
 * or fewer bytes than its `size`, or a link has no target; ERR_UNSUPPORTED_FORMAT for an entry of
 * type `other`.
 */
export async function* encodeTarSegments(entries: AsyncIterable<ArchiveEntry> | Iterable<ArchiveEntry>, options: EncodeTarOptions = {}): AsyncGenerator<TarSegment> {
  const writer = writerOf(options);
  const classify = options.classify ?? false;
  const run = new MemberRun();
  let offset = 0;
  let rootWritten = false;
  for await (const entry of entries) {
    if (!rootWritten) {
      // The store directory's own mtime is not an entry; the first entry's keeps the root
      // deterministic and recent, where 0 would stamp 1970 on the directory users extract into.
      const root = encodeMemberHeader({ name: './', typeflag: TYPEFLAG.directory, mode: 0o755, size: 0, mtime: Math.trunc(entry.mtime) });
      offset += root.length;
      yield* run.add(root);
      rootWritten = true;
    }
    const header = encodeMemberHeader(headerFieldsFor(entry, writer));
    offset += header.length;
    if (entry.type !== 'file' || entry.size === 0) {
      yield* run.add(header);
      continue;
    }
    offset += entry.size + paddingFor(entry.size);
    if (entry.readWhole !== undefined && !(classify && entry.size >= CLASSIFY_MIN_BYTES)) {
      yield* run.add(header, await wholeBody(entry, writer, options.signal), paddingFor(entry.size));
      continue;
    }
    yield* run.take();
    yield { bytes: header, class: 'compressible' };
    const body = encodeBody(entry, writer, options.signal);
    if (classify && entry.size >= CLASSIFY_MIN_BYTES) yield* classifiedBody(body);
    else for await (const bytes of body) yield { bytes, class: 'compressible' };
  }
  if (!rootWritten) {
    const root = encodeMemberHeader({ name: './', typeflag: TYPEFLAG.directory, mode: 0o755, size: 0, mtime: 0 });
    offset += root.length;
    yield* run.add(root);
  }
  yield* run.take();
  offset += ZERO_BLOCKS.length;
  const recordPadding = offset % RECORD_SIZE === 0 ? 0 : RECORD_SIZE - (offset % RECORD_SIZE);
  yield { bytes: Buffer.concat([ZERO_BLOCKS, Buffer.alloc(recordPadding)]), class: 'compressible' };
}

/** Bytes of headers and small members gathered into one segment. */
const RUN_BYTES = 256 * 1024;

/**
 * Headers and small members (header, body given whole, padding) copied back to back into one
 * buffer, given out as one `compressible` segment when full or before a streamed body. Why: a
 * bento of 10,000 small files made a piece or three per file, each an object and a step down
 * every stage of the pipeline, and the garbage grew the young generation by 20 MiB.
 */
class MemberRun {
  #buffer: Buffer | undefined;
  #length = 0;

  /** Appends `header`, then `body` and `padding` zero bytes; yields the run before it, if that was full. */
  *add(header: Buffer, body?: Buffer, padding = 0): Generator<TarSegment> {
    const bytes = header.length + (body?.length ?? 0) + padding;
    if (this.#buffer === undefined || this.#length + bytes > this.#buffer.length) {
      yield* this.take();
      this.#buffer = Buffer.allocUnsafe(Math.max(RUN_BYTES, bytes));
    }
    const buffer = this.#buffer;
    this.#length += header.copy(buffer, this.#length);
    if (body !== undefined) this.#length += body.copy(buffer, this.#length);
    buffer.fill(0, this.#length, this.#length + padding);
    this.#length += padding;
  }

  /** Yields what the run holds, if anything, and starts a new one. */
  *take(): Generator<TarSegment> {
    const buffer = this.#buffer;
    const length = this.#length;
    this.#buffer = undefined;
    this.#length = 0;
    if (buffer !== undefined && length > 0) yield { bytes: buffer.subarray(0, length), class: 'compressible' };
  }
}

/** Holds back the first {@link CLASSIFY_SAMPLE_BYTES} of a body, classifies them, then streams
 * the whole body (padding included) under that one class. */
async function* classifiedBody(body: AsyncIterable<Buffer>): AsyncGenerator<TarSegment> {
  const held: Buffer[] = [];
  let heldBytes = 0;
  let bodyClass: CompressibilityClass | undefined;
  for await (const bytes of body) {
    if (bodyClass !== undefined) {
      yield { bytes, class: bodyClass };
      continue;
    }
    held.push(bytes);
    heldBytes += bytes.length;
    if (heldBytes >= CLASSIFY_SAMPLE_BYTES) {
      const sample = Buffer.concat(held);
      bodyClass = classifySample(sample.subarray(0, CLASSIFY_SAMPLE_BYTES));
      held.length = 0;
      yield { bytes: sample, class: bodyClass };
    }
  }
  if (held.length > 0) {
    const sample = Buffer.concat(held);
    yield { bytes: sample, class: classifySample(sample.subarray(0, CLASSIFY_SAMPLE_BYTES)) };
  }
}

/**
 * The exact length in bytes of the tar that {@link encodeTar} writes for `entries` (so also of
 * format-tar's `tar` token), from the entries' metadata alone (no body is opened): headers (PAX
 * ones included) + bodies padded to 512 bytes + end blocks, padded to a 10240-byte record. For
 * uploads that must announce their Content-Length before streaming (a presigned S3 PUT).
 * @throws {BentoportError} ERR_UNSUPPORTED_FORMAT for an entry of type `other`; ERR_IO for a
 * link without a target (as encoding would).
 * @example
 * ```ts
 * const length = await tarByteLength(item.entries()); // walk once, bodies unopened
 * const body = encodeTar(item.entries()); // walk again and send
 * ```
 */
export async function tarByteLength(
  entries: AsyncIterable<ArchiveEntry> | Iterable<ArchiveEntry>,
  options: Pick<EncodeTarOptions, 'component' | 'format'> = {},
): Promise<number> {
  const writer = writerOf(options);
  let offset = 0;
  let rootCounted = false;
  for await (const entry of entries) {
    if (!rootCounted) {
      offset += encodeMemberHeader({ name: './', typeflag: TYPEFLAG.directory, mode: 0o755, size: 0, mtime: Math.trunc(entry.mtime) }).length;
      rootCounted = true;
    }
    offset += encodeMemberHeader(headerFieldsFor(entry, writer)).length;
    if (entry.type === 'file' && entry.size > 0) offset += entry.size + paddingFor(entry.size);
  }
  if (!rootCounted) offset += BLOCK_SIZE;
  offset += ZERO_BLOCKS.length;
  return offset % RECORD_SIZE === 0 ? offset : offset + RECORD_SIZE - (offset % RECORD_SIZE);
}

function writerOf(options: Pick<EncodeTarOptions, 'component' | 'format'>): Writer {
  return { component: options.component ?? 'tar', format: options.format ?? 'tar' };
}

function headerFieldsFor(entry: ArchiveEntry, writer: Writer): TarHeaderFields {
  // Literals, not a spread of common fields: this runs once per member, 10,000 times for a bento's sources.
  const { mode, mtime } = entry;
  switch (entry.type) {
    case 'file':
      return { name: `./${entry.path}`, typeflag: TYPEFLAG.file, mode, mtime, size: entry.size };
    case 'directory':
      return { name: `./${entry.path}/`, typeflag: TYPEFLAG.directory, mode, mtime, size: 0 };
    case 'symlink':
      return { name: `./${entry.path}`, typeflag: TYPEFLAG.symlink, mode, mtime, size: 0, linkname: requireLinkTarget(entry, writer) };
    case 'hardlink':
      // Hard link targets are archive member names, which all carry the `./` prefix.
      return { name: `./${entry.path}`, typeflag: TYPEFLAG.hardlink, mode, mtime, size: 0, linkname: `./${requireLinkTarget(entry, writer)}` };
    default:
      throw writeFailure(writer, 'ERR_UNSUPPORTED_FORMAT', `entry ${entry.path} is of type ${entry.type}, which a bento archive cannot hold`, {
        path: entry.path,
        type: entry.type,
      });
  }
}

function requireLinkTarget(entry: ArchiveEntry, writer: Writer): string {
  if (entry.linkTarget === undefined || entry.linkTarget === '') {
    throw writeFailure(writer, 'ERR_IO', `${entry.type} ${entry.path} has no link target`, { path: entry.path });
  }
  return entry.linkTarget;
}

/** The body an entry gives whole (`readWhole`), checked to be exactly `size` bytes (see {@link encodeBody}). */
async function wholeBody(entry: ArchiveEntry, writer: Writer, signal: AbortSignal | undefined): Promise<Buffer> {
  if (signal?.aborted === true) throw abortedFailure(writer.component, 'write', writer.format, signal);
  const body = await (entry.readWhole as () => Buffer | Promise<Buffer>)();
  if (body.length !== entry.size) throw sizeMismatch(entry, writer, body.length, body.length > entry.size);
  return body;
}

/** The body, checked to be exactly `size` bytes (a file that changed while exported must not
 * shift every later header), then zero padding to the block boundary. */
async function* encodeBody(entry: ArchiveEntry, writer: Writer, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  if (entry.open === undefined) throw writeFailure(writer, 'ERR_IO', `file ${entry.path} has no body to open`, { path: entry.path });
  const opened = entry.open();
  const body: Readable = signal === undefined ? opened : addAbortSignal(signal, opened);
  let written = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer | string>) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      written += bytes.length;
      if (written > entry.size) throw sizeMismatch(entry, writer, written, true);
      yield bytes;
    }
  } finally {
    // Stops the reader if we leave early (abort, consumer gone, size error).
    body.destroy();
  }
  if (written !== entry.size) throw sizeMismatch(entry, writer, written, false);
  const padding = paddingFor(entry.size);
  if (padding > 0) yield ZERO_BLOCKS.subarray(0, padding);
}

function sizeMismatch(entry: ArchiveEntry, writer: Writer, written: number, atLeast: boolean): BentoportError {
  return writeFailure(
    writer,
    'ERR_IO',
    `file ${entry.path} delivered ${atLeast ? 'more than ' : ''}${atLeast ? entry.size : written} bytes` +
      `${atLeast ? '' : `, expected ${entry.size}`} (did it change during export?)`,
    { path: entry.path, expectedSize: entry.size },
  );
}

/** `[component] write format: reason`, coded, with the entry facts in `details`. */
function writeFailure(writer: Writer, code: ErrorCode, reason: string, details: Record<string, unknown>): BentoportError {
  return pluginFailure(writer.component, code, 'write', writer.format, reason, { details });
}
