import { addAbortSignal } from 'node:stream';
import type { Readable } from 'node:stream';
import { BentoportError, CLASSIFY_MIN_BYTES, CLASSIFY_SAMPLE_BYTES, classifySample } from '@bentoport/core';
import type { ArchiveEntry, CompressibilityClass } from '@bentoport/core';
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

/** The tar byte stream for `entries`, as plain bytes. See {@link encodeTarSegments}. */
export async function* encodeTar(entries: AsyncIterable<ArchiveEntry>, format: string, signal: AbortSignal): AsyncGenerator<Buffer> {
  for await (const segment of encodeTarSegments(entries, format, signal, false)) yield segment.bytes;
}

/**
 * The tar byte stream for `entries`, in the layout current BentoML writes (CPython
 * `shutil.make_archive`): a `./` root directory first, every name prefixed with `./`,
 * directories with a trailing `/`, and the end marker padded to a 10240-byte record.
 *
 * Bodies are passed through chunk by chunk as their streams deliver them, so memory stays at a
 * few chunks whatever the file size. `signal` aborts the body being read.
 *
 * @param format the token, for messages only.
 * @param classify sample large bodies and tag their segments with the class; otherwise every
 *   segment is `compressible`.
 */
export async function* encodeTarSegments(
  entries: AsyncIterable<ArchiveEntry>,
  format: string,
  signal: AbortSignal,
  classify: boolean,
): AsyncGenerator<TarSegment> {
  let offset = 0;
  let rootWritten = false;
  for await (const entry of entries) {
    if (!rootWritten) {
      // The store directory's own mtime is not an entry; the first entry's keeps the root
      // deterministic and recent, where 0 would stamp 1970 on the directory users extract into.
      const root = encodeMemberHeader({ name: './', typeflag: TYPEFLAG.directory, mode: 0o755, size: 0, mtime: Math.trunc(entry.mtime) });
      offset += root.length;
      yield { bytes: root, class: 'compressible' };
      rootWritten = true;
    }
    const header = encodeMemberHeader(headerFieldsFor(entry, format));
    offset += header.length;
    yield { bytes: header, class: 'compressible' };
    if (entry.type === 'file' && entry.size > 0) {
      const body = encodeBody(entry, format, signal);
      if (classify && entry.size >= CLASSIFY_MIN_BYTES) yield* classifiedBody(body);
      else for await (const bytes of body) yield { bytes, class: 'compressible' };
      offset += entry.size + paddingFor(entry.size);
    }
  }
  if (!rootWritten) {
    const root = encodeMemberHeader({ name: './', typeflag: TYPEFLAG.directory, mode: 0o755, size: 0, mtime: 0 });
    offset += root.length;
    yield { bytes: root, class: 'compressible' };
  }
  offset += ZERO_BLOCKS.length;
  const recordPadding = offset % RECORD_SIZE === 0 ? 0 : RECORD_SIZE - (offset % RECORD_SIZE);
  yield { bytes: Buffer.concat([ZERO_BLOCKS, Buffer.alloc(recordPadding)]), class: 'compressible' };
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
 * The exact length in bytes of the uncompressed `tar` that `tarFormat().encode(entries, { format:
 * 'tar' })` writes, from the entries' metadata alone (no body is opened): headers (PAX ones
 * included) + bodies padded to 512 bytes + end blocks, padded to a 10240-byte record. For
 * uploads that must announce their Content-Length before streaming (a presigned S3 PUT).
 * @throws {BentoportError} ERR_UNSUPPORTED_FORMAT for an entry of type `other`; ERR_IO for a
 * link without a target (as `encode` would).
 * @example
 * ```ts
 * const length = await tarByteLength(item.entries()); // walk once, bodies unopened
 * const body = tarFormat().encode(item.entries(), { format: 'tar' }); // walk again and send
 * ```
 */
export async function tarByteLength(entries: AsyncIterable<ArchiveEntry> | Iterable<ArchiveEntry>): Promise<number> {
  let offset = 0;
  let rootCounted = false;
  for await (const entry of entries) {
    if (!rootCounted) {
      offset += encodeMemberHeader({ name: './', typeflag: TYPEFLAG.directory, mode: 0o755, size: 0, mtime: Math.trunc(entry.mtime) }).length;
      rootCounted = true;
    }
    offset += encodeMemberHeader(headerFieldsFor(entry, 'tar')).length;
    if (entry.type === 'file' && entry.size > 0) offset += entry.size + paddingFor(entry.size);
  }
  if (!rootCounted) offset += BLOCK_SIZE;
  offset += ZERO_BLOCKS.length;
  return offset % RECORD_SIZE === 0 ? offset : offset + RECORD_SIZE - (offset % RECORD_SIZE);
}

function headerFieldsFor(entry: ArchiveEntry, format: string): TarHeaderFields {
  const common = { mode: entry.mode, mtime: entry.mtime, size: 0 };
  switch (entry.type) {
    case 'file':
      return { ...common, name: `./${entry.path}`, typeflag: TYPEFLAG.file, size: entry.size };
    case 'directory':
      return { ...common, name: `./${entry.path}/`, typeflag: TYPEFLAG.directory };
    case 'symlink':
      return { ...common, name: `./${entry.path}`, typeflag: TYPEFLAG.symlink, linkname: requireLinkTarget(entry, format) };
    case 'hardlink':
      // Hard link targets are archive member names, which all carry the `./` prefix.
      return { ...common, name: `./${entry.path}`, typeflag: TYPEFLAG.hardlink, linkname: `./${requireLinkTarget(entry, format)}` };
    default:
      throw new BentoportError(
        'ERR_UNSUPPORTED_FORMAT',
        `[format-tar] write ${format}: entry ${entry.path} is of type ${entry.type}, which a bento archive cannot hold`,
        { details: { path: entry.path, type: entry.type } },
      );
  }
}

function requireLinkTarget(entry: ArchiveEntry, format: string): string {
  if (entry.linkTarget === undefined || entry.linkTarget === '') {
    throw new BentoportError('ERR_IO', `[format-tar] write ${format}: ${entry.type} ${entry.path} has no link target`, {
      details: { path: entry.path },
    });
  }
  return entry.linkTarget;
}

/** The body, checked to be exactly `size` bytes (a file that changed while exported must not
 * shift every later header), then zero padding to the block boundary. */
async function* encodeBody(entry: ArchiveEntry, format: string, signal: AbortSignal): AsyncGenerator<Buffer> {
  if (entry.open === undefined) {
    throw new BentoportError('ERR_IO', `[format-tar] write ${format}: file ${entry.path} has no body to open`, {
      details: { path: entry.path },
    });
  }
  const body: Readable = addAbortSignal(signal, entry.open());
  let written = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer | string>) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      written += bytes.length;
      if (written > entry.size) throw sizeMismatch(entry, format, written, true);
      yield bytes;
    }
  } finally {
    // Stops the reader if we leave early (abort, consumer gone, size error).
    body.destroy();
  }
  if (written !== entry.size) throw sizeMismatch(entry, format, written, false);
  const padding = paddingFor(entry.size);
  if (padding > 0) yield ZERO_BLOCKS.subarray(0, padding);
}

function sizeMismatch(entry: ArchiveEntry, format: string, written: number, atLeast: boolean): BentoportError {
  return new BentoportError(
    'ERR_IO',
    `[format-tar] write ${format}: file ${entry.path} delivered ${atLeast ? 'more than ' : ''}${atLeast ? entry.size : written} bytes` +
      `${atLeast ? '' : `, expected ${entry.size}`} (did it change during export?)`,
    { details: { path: entry.path, expectedSize: entry.size } },
  );
}
