import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BentoportError, type Location, type Transport } from '@bentoport/spec';
import { gatherChunks } from '@bentoport/plugin-kit';
import type { ExportOptions, ExportResult, ExportTarget } from './bentoport-types.js';
import { writeChecksumSidecar, writeSidecar } from './sidecar-files.js';
import { readStoredSignature, signItem, writeFileAtomically } from './item-signatures.js';
import { directorySize, type StatsTaken } from './directory-size.js';
import { FileDigests } from './file-digests.js';
import { embeddedModelContent } from './embedded-models.js';
import { operationError, progressEmitter, storeOf, type Emit, type EngineContext } from './engine-context.js';
import { exportFolder } from './folder.js';
import { itemEntries, type ArchiveSourceTree, type ItemEntriesOptions, type VirtualFile } from './item-entries.js';
import type { StoreItem } from './item-store.js';
import { digestingStream, type DigestingStream, type DigestingStreamOptions } from './streams.js';
import { formatTag } from './tag.js';
import { NATIVE_FORMAT, resolveExportTarget, type ItemKind } from './target.js';

/**
 * Export: store directory → entry stream → format encoder → transport writer (commit on
 * success, abort on failure). The store is never modified.
 */

/** What an export writes: the item's directory and, for a bento, its models. */
export interface ExportContent {
  item: StoreItem;
  trees: ArchiveSourceTree[];
  virtualFiles: VirtualFile[];
}

/** Where an export goes, and in which format. */
export interface ExportDestination {
  format: string;
  /** Absent when writing to a caller's stream. */
  location?: Location;
  transport?: Transport;
}

export async function exportContent(context: EngineContext, item: StoreItem, emit: Emit): Promise<ExportContent> {
  const own: ArchiveSourceTree = { directory: item.path, prefix: '', exclude: item.kind === 'bento' ? ['models'] : [] };
  if (item.kind !== 'bento') return { item, trees: [own], virtualFiles: [] };
  const models = await embeddedModelContent(context, item, emit);
  return { item, trees: [own, ...models.trees], virtualFiles: models.virtualFiles };
}

/** The entries of an export, as every format receives them. */
function contentEntries(content: ExportContent, emit: Emit, extra: Pick<ItemEntriesOptions, 'keepSymlinks' | 'onFileBytes' | 'fileDigests' | 'statsTaken'>) {
  return itemEntries({
    trees: content.trees,
    virtualFiles: content.virtualFiles,
    virtualDirectories: content.item.kind === 'bento' ? ['models'] : [],
    mtime: Math.floor(content.item.metadata.creationTime / 1_000_000),
    onWarning: (message) => emit({ type: 'warning', message }),
    ...extra,
  });
}

export async function exportDestination(
  context: EngineContext,
  item: StoreItem,
  target: ExportTarget,
  outputFormat: string | undefined,
  options: ExportOptions,
): Promise<ExportDestination> {
  if (typeof target !== 'string') return { format: outputFormat ?? NATIVE_FORMAT[item.kind] };
  const { location, format } = await resolveExportTarget({
    target,
    format: outputFormat,
    options,
    kind: item.kind,
    name: item.tag.name,
    version: item.tag.version,
    cwd: context.cwd,
    isLocalDirectory: async (candidate) => (await stat(candidate).catch(() => undefined))?.isDirectory() ?? false,
  });
  return { format, location, transport: context.plugins.transportFor(location.protocol, location.display) };
}

/**
 * Format `folder`: a directory tree instead of an archive, so no digest (sha256 is empty). Its
 * signature goes beside it as `<folder>.sig`, as an archive's goes beside the archive.
 */
async function exportAsFolder(
  context: EngineContext,
  content: ExportContent,
  location: Location | undefined,
  options: ExportOptions,
  emit: Emit,
  storedSignature: string | undefined,
): Promise<ExportResult> {
  if (!location) throw new BentoportError('ERR_UNSUPPORTED_FORMAT', `format 'folder' writes a directory and needs a path, not a stream`);
  emit({ type: 'phase', phase: 'transfer', target: location.display });
  const signing = exportSigning(context, content.item, options, storedSignature);
  // BentoML's folder export dereferences symlinks.
  const entries = contentEntries(content, emit, { keepSymlinks: false, ...signing.entryOptions });
  try {
    const written = await exportFolder(entries, location, path.basename(content.item.path), {
      signal: options.signal,
      onRemoved: (removed) => emit({ type: 'notice', message: `[export] removed a stale leftover of an interrupted earlier run: ${removed}` }),
      beforeRename: () => signing.beforeCommit(),
    });
    const result: ExportResult = { tag: formatTag(content.item.tag), destination: written.directory, format: 'folder', sha256: '', size: written.size };
    const signatureText = signing.text();
    if (signatureText === undefined) return result;
    const signatureFile = `${written.directory}.sig`;
    await writeFileAtomically(signatureFile, signatureText);
    return { ...result, signatureFile };
  } finally {
    signing.dispose();
  }
}

/** How an export signs: the entry options that take file digests, and the step that signs. */
interface ExportSigning {
  entryOptions: Pick<ItemEntriesOptions, 'fileDigests'>;
  /** Signs from the digests the export took; runs once every byte is written, before the commit. */
  beforeCommit(): Promise<void>;
  /** The signature that travels with the export, once the commit is done: new, stored, or none. */
  text(): string | undefined;
  dispose(): void;
}

/**
 * The signature of an export: with `sign`, a new one over the digests the export takes of each
 * file as it reads it (nothing is read twice), made after the last byte and before the commit, so
 * a key that cannot sign leaves no archive; else the one the store holds for the item, else none.
 */
function exportSigning(context: EngineContext, item: StoreItem, options: ExportOptions, storedSignature: string | undefined): ExportSigning {
  const signer = options.sign;
  if (signer === undefined) return { entryOptions: {}, beforeCommit: async () => {}, text: () => storedSignature, dispose: () => {} };
  // Files hashed inline, on the main thread; the archive on a thread of its own. One thread for
  // both (the main thread only copying) ran a 1 GiB signed export few-large 2.53-2.69 s against
  // 2.66-3.17 s, but many-small 3.60-3.70 s at 133-149 MiB peak RSS against 3.33-3.50 s at
  // 129-133: with 10,000 files the main thread is not the limit, the memory in flight is.
  const fileDigests = new FileDigests();
  let signed: string | undefined;
  return {
    entryOptions: { fileDigests },
    beforeCommit: async () => {
      const known = await fileDigests.known();
      signed = (await signItem(context, item.kind, formatTag(item.tag), { signer, ...(options.signal ? { signal: options.signal } : {}) }, known)).signatureText;
    },
    text: () => signed,
    dispose: () => fileDigests.destroy(),
  };
}

/**
 * The encoder's output in chunks of at least 256 KiB (see the kit's `gatherChunks`), whatever
 * the format: a zip of 10,000 small files yields three pieces a file, and each piece would be
 * one write to the destination and one update of the digest.
 */
const gathered = (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> => gatherChunks(source);

/**
 * Pipe the encoded archive through the digest to the transport (two-phase) or the caller's stream.
 * The encoder is started only once the writer is open: it watches the signal from the start, and
 * a signal firing while a slow transport connects would destroy it with an error nobody listens
 * to yet, which kills the process (an uncaught 'error' event) instead of cleaning up.
 */
export async function writeArchive(
  encode: () => Readable,
  digest: DigestingStream,
  destination: ExportDestination,
  target: ExportTarget,
  options: ExportOptions,
  emit: Emit,
  beforeCommit: () => Promise<void>,
): Promise<void> {
  const signal = options.signal;
  const { transport, location } = destination;
  if (!transport || !location) {
    const stream = target as Writable;
    const isStdio = stream === process.stdout || stream === process.stderr;
    await pipeline(encode(), gathered, digest, stream, { signal, end: !isStdio });
    await beforeCommit();
    return;
  }
  // A transport reports here what it cleaned up of killed earlier writes to this location.
  const writer = await transport.write(location, { signal, onProgress: emit, ...(options.resume ? { resume: true } : {}) });
  try {
    await pipeline(encode(), gathered, digest, writer.stream, { signal });
    await beforeCommit();
    emit({ type: 'phase', phase: 'commit', target: location.display });
    await writer.commit();
  } catch (error) {
    await writer.abort(error);
    throw error;
  }
}

async function exportAsArchive(
  context: EngineContext,
  content: ExportContent,
  destination: ExportDestination,
  target: ExportTarget,
  options: ExportOptions,
  emit: Emit,
  signing: ExportSigning,
): Promise<ExportResult> {
  const signal = options.signal;
  const { format } = destination;
  const codec = context.plugins.formatFor(format);
  const shown = destination.location?.display ?? '-';
  emit({ type: 'phase', phase: 'transfer', target: shown });

  let sourceTotal = 0;
  // The walk that follows uses the file stats the count took instead of taking them again.
  const statsTaken: StatsTaken = new Map();
  for (const tree of content.trees) sourceTotal += await directorySize(tree.directory, tree.exclude, statsTaken);
  let sourceDone = 0;
  const entries = contentEntries(content, emit, {
    ...signing.entryOptions,
    statsTaken,
    keepSymlinks: codec.capabilities.symlinks,
    onFileBytes: (bytes) => {
      sourceDone += bytes;
      emit({ type: 'bytes', bytesDone: sourceDone, bytesTotal: sourceTotal });
    },
  });
  const encode = (): Readable => codec.encode(entries, { format, compression: options.compression ?? 'auto', signal });
  const digest = digestingStream(archiveDigestOptions(options, sourceTotal));
  try {
    // pipeline destroys the encoder whenever the write fails.
    await writeArchive(encode, digest, destination, target, options, emit, () => signing.beforeCommit());
  } catch (error) {
    throw operationError(error, signal, 'export', 'write', shown);
  }

  const sha256 = digest.digest();
  const result: ExportResult = { tag: formatTag(content.item.tag), destination: shown, format, sha256, size: digest.bytes };
  if (options.checksumFile && destination.transport && destination.location) {
    result.checksumFile = await writeChecksumSidecar(destination.transport, destination.location, sha256, signal, emit);
  }
  const signatureText = signing.text();
  if (signatureText !== undefined && destination.transport && destination.location) {
    result.signatureFile = await writeSidecar(destination.transport, destination.location, '.sig', signatureText, signal, emit);
  }
  return result;
}

/**
 * How an export hashes its archive. Inline, not on a worker thread as imports do: an export
 * already keeps both cores busy (file reads, the encoder, the socket, the server on a shared
 * machine), and on two cores a hash thread made a 1 GiB FTP export 5-15% slower and 15-30 MiB
 * larger.
 *
 * A signed export takes no digest of its archive unless `checksumFile` asks for one: the
 * signature already covers every byte of every file (each file is hashed for its manifest), and
 * a second SHA-256 of the same bytes cost a 1 GiB export 25-31% more time, where signing is meant
 * to cost under 10%. Its `sha256` is then '', as a folder export's is.
 */
function archiveDigestOptions(options: ExportOptions, sourceTotal: number): DigestingStreamOptions {
  if (options.sign === undefined) return {};
  // Both hashes: the archive's on a thread (64 MiB and up), while the main thread hashes the files.
  return options.checksumFile === true ? { expectedBytes: sourceTotal } : { hash: false };
}

/**
 * Export an item: a bento with its models embedded, as BentoML's `export_bento`, or a model.
 * The store is never modified.
 */
export async function exportItem(
  context: EngineContext,
  kind: ItemKind,
  tagLike: string,
  target: ExportTarget,
  outputFormat: string | undefined,
  options: ExportOptions = {},
): Promise<ExportResult> {
  const emit = progressEmitter(context, 'export', options.onProgress);
  emit({ type: 'phase', phase: 'resolve' });
  const item = await storeOf(context, kind).get(tagLike);
  const content = await exportContent(context, item, emit);
  const destination = await exportDestination(context, item, target, outputFormat, options);
  const storedSignature = options.sign === undefined ? await readStoredSignature(item) : undefined;
  if (destination.format === 'folder') return exportAsFolder(context, content, destination.location, options, emit, storedSignature);
  const signing = exportSigning(context, item, options, storedSignature);
  try {
    return await exportAsArchive(context, content, destination, target, options, emit, signing);
  } finally {
    signing.dispose();
  }
}
