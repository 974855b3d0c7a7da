import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArchiveSource, Format, Location, Transport } from '@bentoport/spec';
import { peekStream } from '@bentoport/plugin-kit';
import type { Emit } from './engine-context.js';
import type { FileDigests } from './file-digests.js';
import type { PluginSet } from './plugins.js';
import { extractEntries, type ExtractionLimits } from './safe-extract.js';
import { digestingStream, type DigestingStream, type DigestingStreamOptions } from './streams.js';

/**
 * The source and decode steps of an archive import: the bytes flow once, from the transport (or
 * a caller's stream) through the digest into the decoder, and the decoder's entries into safe
 * extraction. Nothing buffers the archive in memory; only a codec that needs random access to a
 * source without it spools the archive into the staging directory.
 */

/** Bytes read before sniffing: tar's magic sits at offset 257. */
const SNIFF_BYTES = 512;

/** Where an import's archive bytes come from. */
export interface ArchiveInput {
  /** What messages name: the location's display form, or `-` for a stream. */
  display: string;
  /** The transport and location of a path or URL; absent for a caller's stream. */
  transport?: Transport;
  location?: Location;
  /** Byte length, when the transport said. */
  size?: number;
  /** The format named by the caller or guessed from the name. */
  format?: string;
  /** True when the caller named the format; a guess yields to the bytes' magic number. */
  explicitFormat: boolean;
}

/** An archive whose first bytes were read: the codec chosen, the stream still whole. */
export interface SniffedArchive {
  /** The archive from its first byte (the peeked bytes put back). */
  stream: Readable;
  format: string;
  codec: Format;
}

/** A stream that opens lazily: ranged reads hand the decoder a Readable synchronously. */
export function lazyReadable(open: () => Promise<Readable>): Readable {
  return Readable.from(
    (async function* () {
      yield* await open();
    })(),
    { objectMode: false },
  );
}

/** A sink that lets bytes pass only so the digest sees them. */
function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}

/**
 * Start the archive flowing through the digest (on `hashing.thread` when given, shared with the
 * files' digests; its owner destroys it), which counts the bytes for progress events. With
 * `hashing.hash` false it only counts, and its digest is ''.
 * Read the archive from the returned stream, never from `raw`.
 */
export function hashedArchive(
  raw: Readable,
  size: number | undefined,
  emit: Emit,
  hashing: Pick<DigestingStreamOptions, 'thread' | 'hash'> = {},
): DigestingStream {
  // A large archive is hashed on a worker thread: on import the main thread (tar parsing,
  // hashing) is the bottleneck while the file writes leave the second core idle part of the
  // time; 1 GiB tar import 1.46 -> 1.25 s locally, 2.05 -> 1.80 s over FTP.
  const digest = digestingStream({ onBytes: (bytes) => emit({ type: 'bytes', bytesDone: bytes, bytesTotal: size }), expectedBytes: size, ...hashing });
  // pipeline(), not pipe(): a failure or early close on either side destroys the other, so
  // neither the source's connection nor the hash thread outlives a failed import. Its errors
  // reach the decoder through `digest`.
  pipeline(raw, digest).catch(() => undefined);
  return digest;
}

/**
 * Peek at the first bytes and choose the codec: the format the caller named, else the one the
 * bytes' magic number says (a name's extension only guesses).
 * @throws {BentoportError} ERR_UNSUPPORTED_FORMAT when no installed codec reads it.
 */
export async function sniffArchive(source: Readable, plugins: PluginSet, input: ArchiveInput): Promise<SniffedArchive> {
  const { head, stream } = await peekStream(source, SNIFF_BYTES);
  const format = input.explicitFormat && input.format !== undefined ? input.format : plugins.sniff(head, input.display);
  return { stream, format, codec: plugins.formatFor(format) };
}

/** What the decoder reads, and a promise of the sequential stream having been read to its end. */
export interface DecoderSource {
  archive: ArchiveSource;
  wholeInputRead: Promise<unknown>;
}

/** Decode with ranged reads; the sequential stream still flows, only to be hashed. */
function rangedSource(stream: Readable, transport: Transport, location: Location, size: number, signal: AbortSignal | undefined): DecoderSource {
  const wholeInputRead = pipeline(stream, discard());
  // Awaited on success only; a failure elsewhere destroys the stream and with it this.
  wholeInputRead.catch(() => undefined);
  return {
    wholeInputRead,
    archive: {
      size,
      stream: () => lazyReadable(() => transport.read(location, { signal })),
      readRange: (start, end) => lazyReadable(() => transport.read(location, { start, end, signal })),
    },
  };
}

/** No random access to the source (stdin, a plain stream): spool it into the staging directory. */
async function spooledSource(stream: Readable, staging: string, signal: AbortSignal | undefined): Promise<DecoderSource> {
  const spool = path.join(staging, 'archive.spool');
  await pipeline(stream, createWriteStream(spool), { signal });
  const spoolSize = (await stat(spool)).size;
  return {
    wholeInputRead: Promise.resolve(),
    archive: {
      size: spoolSize,
      stream: () => createReadStream(spool),
      readRange: (start, end) => (end <= start ? Readable.from([]) : createReadStream(spool, { start, end: end - 1 })),
    },
  };
}

/** The decoder's source: the stream itself, ranged reads of the transport, or a spool in `staging`. */
export async function decoderSource(sniffed: SniffedArchive, input: ArchiveInput, staging: string, signal: AbortSignal | undefined): Promise<DecoderSource> {
  if (!sniffed.codec.capabilities.randomAccessDecode) return { archive: { size: input.size, stream: () => sniffed.stream }, wholeInputRead: Promise.resolve() };
  const { transport, location, size } = input;
  if (transport && location && transport.capabilities.rangedReads && size !== undefined) return rangedSource(sniffed.stream, transport, location, size, signal);
  return spooledSource(sniffed.stream, staging, signal);
}

/** What {@link extractArchive} needs. */
export interface ExtractArchiveRequest {
  sniffed: SniffedArchive;
  digest: DigestingStream;
  input: ArchiveInput;
  /** The empty directory the item is extracted into. */
  itemDirectory: string;
  /** The staging directory, for a spool. */
  staging: string;
  limits?: Partial<ExtractionLimits>;
  /** Takes each extracted file's SHA-256 on the way (a signature check). @default undefined */
  fileDigests?: FileDigests;
  signal?: AbortSignal;
}

/**
 * Decode the archive into `itemDirectory` by safe extraction, and read the source to its end,
 * so that `digest` then covers every byte.
 * @throws {BentoportError} ERR_UNSAFE_ARCHIVE, ERR_CORRUPT_ARCHIVE, the source's errors.
 */
export async function extractArchive(request: ExtractArchiveRequest): Promise<void> {
  const { sniffed, digest, signal } = request;
  const { archive, wholeInputRead } = await decoderSource(sniffed, request.input, request.staging, signal);
  await extractEntries(sniffed.codec.decode(archive, { format: sniffed.format, signal }), request.itemDirectory, {
    limits: request.limits,
    // Bytes read from the transport, before decompression: what a bomb's ratio is measured on.
    archiveBytesRead: () => digest.bytes,
    archiveBytes: archive.size ?? request.input.size,
    ...(request.fileDigests ? { fileDigests: request.fileDigests } : {}),
    signal,
  });
  // The digest must cover every byte, including what the decoder did not need (tar padding).
  const stream = sniffed.stream;
  if (!sniffed.codec.capabilities.randomAccessDecode && !stream.readableEnded && !stream.destroyed) {
    await pipeline(stream, discard());
  }
  await wholeInputRead;
}
