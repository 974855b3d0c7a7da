import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BentoportError, isBentoportError, type ArchiveEntry, type Location, type Transport } from '@bentoport/spec';
import { gatherChunks } from '@bentoport/plugin-kit';
import type { EngineContext } from './engine-context.js';
import { writeArchive } from './export-item.js';
import { readArchiveYaml } from './remote-store-head.js';
import { mergeIntoIndex, readIndex, type IndexedItem, type RemoteStoreIndex } from './remote-store-index.js';
import { archivePath, CHECKSUM_SUFFIX, childLocation, INDEX_NAME, KIND_DIRECTORY, parseArchivePath, SIGNATURE_SUFFIX, storeRootLocation, type ArchiveName } from './remote-store-layout.js';
import { readSidecar, readSignatureSidecar, writeChecksumSidecar, writeSidecar } from './sidecar-files.js';
import { digestingStream } from './streams.js';
import { syncItemKey, type SyncCallOptions, type SyncChange, type SyncEndpoint, type SyncEntriesOptions, type SyncItem, type SyncListOptions, type SyncPayload, type SyncReceipt } from './sync-endpoint.js';
import { NATIVE_FORMAT, type ItemKind } from './target.js';

/**
 * A remote store on any transport (layout in remote-store-layout.ts), as a sync endpoint and as
 * what `list URL`, `get URL/TAG` and `import URL --tag` read.
 */

/** Options of a remote store. */
export interface RemoteStoreOptions {
  /**
   * Format of the archives this endpoint writes. Native (`.bento`, `.bentomodel`) keeps each
   * archive importable by BentoML itself; `tar` is faster where the network is not the limit.
   * @default undefined (native for each kind)
   */
  format?: string;
}

export interface RemoteStore extends SyncEndpoint {
  readonly root: Location;
  readonly transport: Transport;
  /** The store's index, or undefined when it has none yet. */
  index(options: SyncCallOptions): Promise<RemoteStoreIndex | undefined>;
  /** The yaml of one item as written, and its document, read from its archive's head (ranged reads). */
  document(item: SyncItem, options: SyncCallOptions): Promise<{ document: Record<string, unknown>; yaml: string }>;
}

/** The archive format of items of `kind` at this store. */
function formatFor(kind: ItemKind, options: RemoteStoreOptions): string {
  return options.format ?? NATIVE_FORMAT[kind];
}

function archiveLocation(root: Location, item: Pick<SyncItem, 'kind' | 'name' | 'version'>, format: string): Location {
  return childLocation(root, archivePath(item.kind, item.name, item.version, format));
}

/** How often, and how far apart, a receive that lost a race looks for the winner's copy. */
const ARRIVAL_CHECKS = 5;
const ARRIVAL_CHECK_INTERVAL_MS = 250;

/** Whether an error only says that nothing is there. */
const isMissing = (error: unknown) => isBentoportError(error, 'ERR_NOT_FOUND');

/** The relative paths of every file under the kind directories (two levels: name, then file). */
async function archiveFiles(transport: Transport, root: Location, kinds: ItemKind[], signal: AbortSignal | undefined): Promise<Map<string, number>> {
  const files = new Map<string, number>();
  if (!transport.list) return files;
  for (const directory of kinds.map((kind) => KIND_DIRECTORY[kind])) {
    const names = await transport.list(childLocation(root, directory), { signal }).catch((error: unknown) => (isMissing(error) ? [] : Promise.reject(error)));
    for (const name of names.filter((entry) => entry.type === 'directory')) {
      const entries = await transport.list(childLocation(root, `${directory}/${name.name}`), { signal });
      for (const entry of entries) if (entry.type === 'file') files.set(`${directory}/${name.name}/${entry.name}`, entry.size);
    }
  }
  return files;
}

/** What an archive the index does not name is: from its name and checksum sidecar, and (`heads`) the yaml at its head. */
interface UnindexedRequest {
  parsed: ArchiveName;
  relative: string;
  size: number;
  signed: boolean;
  scan: 'heads' | 'names';
  signal: AbortSignal | undefined;
}

/** An archive the index does not name, made a {@link SyncItem} from its sidecar and, for `heads`, its head. */
async function unindexedItem(context: EngineContext, transport: Transport, root: Location, request: UnindexedRequest): Promise<IndexedItem | undefined> {
  const { parsed, relative, size, signed, signal } = request;
  const location = childLocation(root, relative);
  const text = await readSidecar(transport, location, CHECKSUM_SUFFIX, 4096, signal);
  const sha256 = text?.trim().split(/\s+/)[0]?.toLowerCase();
  if (!sha256 || !/^[0-9a-f]{64}$/.test(sha256)) return undefined;
  const base = { kind: parsed.kind, name: parsed.name, version: parsed.version, size, sha256, format: parsed.format, file: relative, signed };
  if (request.scan === 'names') return { ...base, creationTime: 0, models: [] };
  const { metadata } = await readArchiveYaml(context, { transport, location, kind: parsed.kind, format: parsed.format, size }, signal);
  if (metadata.tag.name !== parsed.name || metadata.tag.version !== parsed.version) return undefined;
  return {
    ...base,
    creationTime: metadata.creationTime,
    models: metadata.models.filter((model) => model.registry === 'bentoml').map((model) => ({ name: model.tag.name, version: model.tag.version })),
    ...(metadata.module ? { module: metadata.module } : {}),
  };
}

/** Archives with a checksum sidecar that `known` does not hold. */
async function scanUnindexed(
  context: EngineContext,
  transport: Transport,
  root: Location,
  known: Set<string>,
  kinds: ItemKind[],
  scan: 'heads' | 'names',
  signal: AbortSignal | undefined,
): Promise<IndexedItem[]> {
  const files = await archiveFiles(transport, root, kinds, signal);
  const found: IndexedItem[] = [];
  for (const [relative, size] of files) {
    const parsed = parseArchivePath(relative, context.plugins.formats());
    if (!parsed || known.has(syncItemKey(parsed)) || !files.has(`${relative}${CHECKSUM_SUFFIX}`)) continue;
    const item = await unindexedItem(context, transport, root, { parsed, relative, size, signed: files.has(`${relative}${SIGNATURE_SUFFIX}`), scan, signal });
    if (item) found.push(item);
  }
  return found;
}

/**
 * Copy an archive verbatim, checking its SHA-256 as it streams; the write commits only when the
 * digest matches, so a corrupt copy never becomes visible.
 */
async function copyVerified(transport: Transport, location: Location, source: Readable, expected: string, report: (bytes: number) => void, signal: AbortSignal | undefined) {
  const digest = digestingStream({ onBytes: report });
  const writer = await transport.write(location, { signal });
  try {
    await pipeline(source, gatherChunks, digest, writer.stream, { signal });
    if (digest.digest() !== expected) {
      throw new BentoportError('ERR_CORRUPT_ARCHIVE', `${location.display}: SHA-256 of the copy is ${digest.digest()}, the source's index says ${expected}; nothing was written`);
    }
    await writer.commit();
  } catch (error) {
    await writer.abort(error);
    throw error;
  }
  return { sha256: digest.digest(), size: digest.bytes };
}

/**
 * The entries of an archive, read once through its digest; the digest is checked against the
 * index when the decoder is done, before the last entry is handed on.
 */
async function* verifiedEntries(context: EngineContext, transport: Transport, location: Location, item: IndexedItem, options: SyncEntriesOptions): AsyncGenerator<ArchiveEntry> {
  const { signal, onProgress } = options;
  const codec = context.plugins.formatFor(item.format);
  if (codec.capabilities.randomAccessDecode) {
    throw new BentoportError('ERR_UNSUPPORTED_FORMAT', `${location.display}: format '${item.format}' needs random access; sync from this store into the local store first`);
  }
  const raw = await transport.read(location, { signal });
  // Archive bytes read: the unit of this payload's `contentBytes`.
  const digest = digestingStream({ onBytes: (bytes) => onProgress?.({ type: 'bytes', operation: 'sync', bytesDone: bytes }) });
  const flowing = pipeline(raw, digest).catch(() => undefined);
  try {
    yield* codec.decode({ stream: () => digest, size: item.size }, { format: item.format, signal });
    if (!digest.readableEnded) for await (const _rest of digest) void _rest;
    await flowing;
    if (digest.digest() !== item.sha256) throw new BentoportError('ERR_CORRUPT_ARCHIVE', `${location.display}: SHA-256 ${digest.digest()} differs from the index's ${item.sha256}`);
  } finally {
    digest.destroy();
  }
}

/**
 * A remote store at `url` (a path, `file://`, `s3://`, `sftp://`, `ftp://`, `https://` WebDAV).
 * @throws {BentoportError} ERR_UNSUPPORTED_PROTOCOL without a transport for the URL's scheme.
 */
export function openRemoteStore(context: EngineContext, url: string, options: RemoteStoreOptions = {}): RemoteStore {
  const root = storeRootLocation(url, context.cwd);
  const transport = context.plugins.transportFor(root.protocol, root.display);
  if (options.format !== undefined) context.plugins.formatFor(options.format);
  /** Items found arrived but not indexed, fully described (`heads`) or by name only (`names`). */
  const unindexed = new Map<string, IndexedItem>();
  const namesOnly = new Set<string>();
  const known = new Map<string, IndexedItem>();

  async function list(listOptions: SyncListOptions): Promise<SyncItem[]> {
    const index = await readIndex(transport, root, listOptions.signal);
    const items = new Map((index?.items ?? []).map((item) => [syncItemKey(item), item]));
    // Without an index, a listing describes what the archives hold.
    const scan = listOptions.scan ?? (index ? undefined : 'heads');
    if (scan) {
      const kinds: ItemKind[] = listOptions.kind ? [listOptions.kind] : ['model', 'bento'];
      for (const item of await scanUnindexed(context, transport, root, new Set(items.keys()), kinds, scan, listOptions.signal)) {
        unindexed.set(syncItemKey(item), item);
        if (scan === 'names') namesOnly.add(syncItemKey(item));
        items.set(syncItemKey(item), item);
      }
    }
    if (listOptions.existing && index === undefined && items.size === 0) {
      throw new BentoportError('ERR_NOT_FOUND', `${root.display} holds no remote store (no ${INDEX_NAME}, no archive under bentos/ or models/): check the path or URL`);
    }
    for (const [key, item] of items) known.set(key, item);
    return [...items.values()].filter((item) => listOptions.kind === undefined || item.kind === listOptions.kind);
  }

  function indexedOf(item: SyncItem): IndexedItem {
    const found = known.get(syncItemKey(item));
    if (!found) throw new BentoportError('ERR_NOT_FOUND', `${root.display}: no ${item.kind} '${item.name}:${item.version}' in this store`);
    return found;
  }

  async function open(item: SyncItem, callOptions: SyncCallOptions): Promise<SyncPayload> {
    const indexed = indexedOf(item);
    const location = childLocation(root, indexed.file);
    const signatureText = indexed.signed ? await readSignatureSidecar(transport, location, callOptions.signal) : undefined;
    return {
      item: indexed,
      contentBytes: indexed.size,
      entries: (entryOptions: SyncEntriesOptions) => verifiedEntries(context, transport, location, indexed, entryOptions),
      archive: {
        format: indexed.format,
        sha256: indexed.sha256,
        size: indexed.size,
        open: (openOptions) => transport.read(location, { signal: openOptions.signal }),
      },
      ...(signatureText === undefined ? {} : { signatureText }),
    };
  }

  /** Write the archive (copied or encoded), its `.sig`, then its `.sha256`: the mark that it arrived whole. */
  async function writeItem(payload: SyncPayload, format: string, location: Location, report: (bytes: number) => void, callOptions: SyncCallOptions) {
    const { signal } = callOptions;
    let written: { sha256: string; size: number };
    if (payload.archive && payload.archive.format === format) {
      written = await copyVerified(transport, location, await payload.archive.open({ signal }), payload.archive.sha256, report, signal);
    } else {
      const codec = context.plugins.formatFor(format);
      // The source reports its entries' bytes, in the unit of its `contentBytes`.
      const digest = digestingStream();
      const entries = payload.entries({ signal, keepSymlinks: codec.capabilities.symlinks, ...(callOptions.onProgress ? { onProgress: callOptions.onProgress } : {}) });
      const encode = () => codec.encode(entries, { format, compression: 'auto', signal });
      await writeArchive(encode, digest, { format, location, transport }, location.display, { signal }, () => undefined, async () => undefined);
      written = { sha256: digest.digest(), size: digest.bytes };
    }
    if (payload.signatureText !== undefined) await writeSidecar(transport, location, SIGNATURE_SUFFIX, payload.signatureText, signal);
    await writeChecksumSidecar(transport, location, written.sha256, signal);
    return written;
  }

  /**
   * The copy another writer completed at `location` (its `.sha256` and size), looked for a few
   * times over about a second, since its sidecar follows its archive; undefined when none came.
   */
  async function arrivedCopy(location: Location, signal: AbortSignal | undefined): Promise<{ sha256: string; size: number } | undefined> {
    for (let attempt = 0; attempt < ARRIVAL_CHECKS; attempt++) {
      if (attempt > 0) await delay(ARRIVAL_CHECK_INTERVAL_MS, undefined, { signal });
      const text = await readSidecar(transport, location, CHECKSUM_SUFFIX, 4096, signal).catch(() => undefined);
      const sha256 = text?.trim().split(/\s+/)[0]?.toLowerCase();
      if (!sha256 || !/^[0-9a-f]{64}$/.test(sha256)) continue;
      const info = await transport.stat(location, { signal }).catch(() => undefined);
      if (info?.type === 'file') return { sha256, size: info.size };
    }
    return undefined;
  }

  async function receive(payload: SyncPayload, callOptions: SyncCallOptions): Promise<SyncReceipt> {
    const { item } = payload;
    const { signal } = callOptions;
    const format = formatFor(item.kind, options);
    const location = archiveLocation(root, item, format);
    // Local files refuse a missing parent (BentoML's custom); the other protocols create it.
    if (location.protocol === 'file') await mkdir(path.dirname(location.path), { recursive: true });
    const report = (bytes: number) => callOptions.onProgress?.({ type: 'bytes', operation: 'sync', bytesDone: bytes, ...(payload.contentBytes === undefined ? {} : { bytesTotal: payload.contentBytes }) });
    let written: { sha256: string; size: number };
    try {
      written = await writeItem(payload, format, location, report, callOptions);
    } catch (error) {
      // Another sync into this store wrote the same tag at the same moment (a shared model):
      // the same tag is the same item, and its copy arrived whole; ours lost the race.
      // A copy that did not hash as its source says is never excused.
      const excusable = !signal?.aborted && !isBentoportError(error, 'ERR_CORRUPT_ARCHIVE');
      const theirs = excusable ? await arrivedCopy(location, signal) : undefined;
      if (!theirs) throw error;
      written = theirs;
    }
    const stored: IndexedItem = {
      kind: item.kind,
      name: item.name,
      version: item.version,
      creationTime: item.creationTime,
      models: item.models,
      signed: payload.signatureText !== undefined,
      ...(item.module === undefined ? {} : { module: item.module }),
      file: archivePath(item.kind, item.name, item.version, format),
      format,
      size: written.size,
      sha256: written.sha256,
    };
    known.set(syncItemKey(stored), stored);
    return { bytes: written.size, item: stored };
  }

  async function remove(item: SyncItem, callOptions: SyncCallOptions): Promise<void> {
    const indexed = indexedOf(item);
    const location = childLocation(root, indexed.file);
    // The checksum sidecar first: an archive without it is not taken for an arrived one.
    for (const target of [`${location.path}${CHECKSUM_SUFFIX}`, location.path, `${location.path}${SIGNATURE_SUFFIX}`]) {
      await transport.delete?.({ ...location, path: target }, { signal: callOptions.signal }).catch((error: unknown) => (isMissing(error) ? undefined : Promise.reject(error)));
    }
  }

  /** The unindexed items to record: those described fully, and those by name that SRC describes. */
  function adopted(present: SyncItem[]): IndexedItem[] {
    const described = new Map(present.map((item) => [syncItemKey(item), item]));
    const items: IndexedItem[] = [];
    for (const [key, item] of unindexed) {
      const source = described.get(key);
      if (!namesOnly.has(key)) items.push(item);
      else if (source) items.push({ ...item, creationTime: source.creationTime, models: source.models, ...(source.module === undefined ? {} : { module: source.module }) });
    }
    return items;
  }

  async function finish(change: SyncChange, callOptions: SyncCallOptions): Promise<void> {
    const received = change.received.map((item) => known.get(syncItemKey(item))).filter((item): item is IndexedItem => item !== undefined);
    const put = [...adopted(change.present), ...received];
    if (put.length === 0 && change.removed.length === 0) return;
    await mergeIntoIndex(transport, root, { put, remove: change.removed }, callOptions.signal);
    unindexed.clear();
    namesOnly.clear();
  }

  async function document(item: SyncItem, callOptions: SyncCallOptions): Promise<{ document: Record<string, unknown>; yaml: string }> {
    const indexed = indexedOf(item);
    const location = childLocation(root, indexed.file);
    const { metadata, text } = await readArchiveYaml(context, { transport, location, kind: indexed.kind, format: indexed.format, size: indexed.size }, callOptions.signal);
    return { document: metadata.document, yaml: text };
  }

  return {
    display: root.display,
    root,
    transport,
    list,
    open,
    receive,
    ...(transport.capabilities.delete && transport.delete ? { remove } : {}),
    finish,
    index: (callOptions) => readIndex(transport, root, callOptions.signal),
    document,
  };
}
