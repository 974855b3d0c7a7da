import { addAbortSignal } from 'node:stream';
import type { Readable } from 'node:stream';
import { BentoportError } from '@bentoport/core';
import type { ArchiveEntry } from '@bentoport/core';
import { BLOCK_SIZE, RECORD_SIZE, TYPEFLAG, encodeMemberHeader, paddingFor } from './tar-header.js';
import type { TarHeaderFields } from './tar-header.js';

const ZERO_BLOCKS = Buffer.alloc(2 * BLOCK_SIZE);

/**
 * The tar byte stream for `entries`, in the layout current BentoML writes (CPython
 * `shutil.make_archive`): a `./` root directory first, every name prefixed with `./`,
 * directories with a trailing `/`, and the end marker padded to a 10240-byte record.
 *
 * Bodies are passed through chunk by chunk as their streams deliver them, so memory stays at a
 * few chunks whatever the file size. `signal` aborts the body being read.
 *
 * @param format the token, for messages only.
 */
export async function* encodeTar(
  entries: AsyncIterable<ArchiveEntry>,
  format: string,
  signal: AbortSignal,
): AsyncGenerator<Buffer> {
  let offset = 0;
  let rootWritten = false;
  for await (const entry of entries) {
    if (!rootWritten) {
      // The store directory's own mtime is not an entry; the first entry's keeps the root
      // deterministic and recent, where 0 would stamp 1970 on the directory users extract into.
      const root = encodeMemberHeader({ name: './', typeflag: TYPEFLAG.directory, mode: 0o755, size: 0, mtime: Math.trunc(entry.mtime) });
      offset += root.length;
      yield root;
      rootWritten = true;
    }
    const header = encodeMemberHeader(headerFieldsFor(entry, format));
    offset += header.length;
    yield header;
    if (entry.type === 'file' && entry.size > 0) {
      yield* encodeBody(entry, format, signal);
      offset += entry.size + paddingFor(entry.size);
    }
  }
  if (!rootWritten) {
    const root = encodeMemberHeader({ name: './', typeflag: TYPEFLAG.directory, mode: 0o755, size: 0, mtime: 0 });
    offset += root.length;
    yield root;
  }
  offset += ZERO_BLOCKS.length;
  const recordPadding = offset % RECORD_SIZE === 0 ? 0 : RECORD_SIZE - (offset % RECORD_SIZE);
  yield Buffer.concat([ZERO_BLOCKS, Buffer.alloc(recordPadding)]);
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
