import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type {
  Bentoport,
  BentoportOptions,
  ExportOptions,
  ExportResult,
  ExportTarget,
  ImportOptions,
  ImportResult,
  ImportSource,
} from './bentoport-types.js';
import { directorySize } from './directory-size.js';
import { type ArchiveSource, BentoportError, isBentoportError, type Location, type Operation, type ProgressEvent, type ProgressListener, type Transport } from '@bentoport/spec';
import { peekStream, toBentoportError } from '@bentoport/plugin-kit';
import { itemEntries, type ArchiveSourceTree, type VirtualFile } from './item-entries.js';
import { defaultHome, loadItemMetadata, openItemStore, type ItemStore, type StoreItem } from './item-store.js';
import { pluginSet } from './plugins.js';
import { createPushPull } from './push-pull.js';
import { exportFolder, folderSource } from './folder.js';
import { extractEntries } from './safe-extract.js';
import { createStagingDirectory, removeStagingDirectory, sweepStaleStaging } from './staging.js';
import { digestingStream } from './streams.js';
import { formatTag, parseTag } from './tag.js';
import { NATIVE_FORMAT, resolveExportTarget, resolveImportSource, type ItemKind } from './target.js';

const SHA256_PATTERN = /^[0-9a-f]{64}$/;
/** Bytes read before sniffing: tar's magic sits at offset 257. */
const SNIFF_BYTES = 512;

const TYPE_NAME: Record<ItemKind, string> = { bento: 'Bento', model: 'Model' };

/** A progress event before the operation is stamped on it. */
type EventWithoutOperation = ProgressEvent extends infer Event ? (Event extends ProgressEvent ? Omit<Event, 'operation'> : never) : never;

async function pathExists(target: string): Promise<boolean> {
  try {
    await lstat(target);
    return true;
  } catch {
    return false;
  }
}

/** A stream that opens lazily: ranged reads hand the decoder a Readable synchronously. */
function lazyReadable(open: () => Promise<Readable>): Readable {
  return Readable.from(
    (async function* () {
      yield* await open();
    })(),
    { objectMode: false },
  );
}

function sidecarLocation(location: Location): Location {
  return { ...location, path: `${location.path}.sha256`, display: `${location.display}.sha256` };
}

/** Parse a sha256sum-format line (`<hex>  <name>`), or undefined. */
function parseChecksumFile(text: string): string | undefined {
  const first = text.trim().split(/\s+/)[0]?.toLowerCase();
  return first && SHA256_PATTERN.test(first) ? first : undefined;
}

async function readSmall(stream: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Create the bentoport API over one BentoML home with the given plugins.
 * @example
 * ```ts
 * import { createBentoport } from '@bentoport/core';
 * import { tarFormat } from '@bentoport/format-tar';
 * import { fsTransport } from '@bentoport/transport-fs';
 *
 * const bentoport = createBentoport({ formats: [tarFormat()], transports: [fsTransport()] });
 * const { destination, sha256 } = await bentoport.exportBento('iris_classifier:latest', './iris.tar.gz');
 * ```
 */
export function createBentoport(options: BentoportOptions = {}): Bentoport {
  const home = path.resolve(options.home ?? defaultHome());
  const plugins = pluginSet(options.formats ?? [], options.transports ?? [], options.registries ?? []);
  const bentos = openItemStore(home, 'bento');
  const models = openItemStore(home, 'model');
  const cwd = options.cwd ?? process.cwd();

  const emitter = (operation: Operation, extra?: ProgressListener) => {
    return (event: EventWithoutOperation) => {
      const full = { ...event, operation } as ProgressEvent;
      options.onProgress?.(full);
      extra?.(full);
    };
  };

  const storeOf = (kind: ItemKind): ItemStore => (kind === 'bento' ? bentos : models);

  async function exportItem(
    kind: ItemKind,
    tagLike: string,
    target: ExportTarget,
    outputFormat: string | undefined,
    exportOptions: ExportOptions = {},
  ): Promise<ExportResult> {
    const emit = emitter('export', exportOptions.onProgress);
    const signal = exportOptions.signal;
    emit({ type: 'phase', phase: 'resolve' });
    const item = await storeOf(kind).get(tagLike);
    const tagText = formatTag(item.tag);

    const trees: ArchiveSourceTree[] = [{ directory: item.path, prefix: '', exclude: kind === 'bento' ? ['models'] : [] }];
    const virtualFiles: VirtualFile[] = [];
    if (kind === 'bento') {
      const newestByName = new Map<string, StoreItem>();
      const hubModels: string[] = [];
      for (const reference of item.metadata.models) {
        const modelTag = formatTag(reference.tag);
        if (reference.registry !== 'bentoml') {
          hubModels.push(modelTag);
          continue;
        }
        let model: StoreItem | undefined = (await models.list(modelTag))[0];
        if (!model) {
          // A legacy bento may still carry the model inside its own models/ directory.
          const legacy = path.join(item.path, 'models', reference.tag.name, reference.tag.version);
          const metadata = (await pathExists(legacy)) ? await loadItemMetadata('model', legacy) : undefined;
          if (!metadata) {
            throw new BentoportError(
              'ERR_NOT_FOUND',
              `Model '${modelTag}' used by bento '${tagText}' is not in the model store ${models.base}; import or pull it first`,
            );
          }
          model = { kind: 'model', tag: metadata.tag, path: legacy, metadata };
        }
        trees.push({ directory: model.path, prefix: `models/${model.tag.name}/${model.tag.version}` });
        const current = newestByName.get(model.tag.name);
        if (!current || model.metadata.creationTime >= current.metadata.creationTime) newestByName.set(model.tag.name, model);
      }
      for (const [name, model] of newestByName) virtualFiles.push({ path: `models/${name}/latest`, content: model.tag.version });
      if (hubModels.length > 0) {
        emit({
          type: 'warning',
          message: `bento '${tagText}' refers to Hugging Face models that are never embedded: ${hubModels.join(', ')}`,
        });
      }
    }

    let location: Location | undefined;
    let transport: Transport | undefined;
    let format: string;
    if (typeof target === 'string') {
      const resolved = await resolveExportTarget({
        target,
        format: outputFormat,
        options: exportOptions,
        kind,
        name: item.tag.name,
        version: item.tag.version,
        cwd,
        isLocalDirectory: async (candidate) => (await stat(candidate).catch(() => undefined))?.isDirectory() ?? false,
      });
      location = resolved.location;
      format = resolved.format;
      transport = plugins.transportFor(location.protocol, location.display);
    } else {
      format = outputFormat ?? NATIVE_FORMAT[kind];
    }
    if (format === 'folder') {
      if (!location) throw new BentoportError('ERR_UNSUPPORTED_FORMAT', `format 'folder' writes a directory and needs a path, not a stream`);
      emit({ type: 'phase', phase: 'transfer', target: location.display });
      // BentoML's folder export dereferences symlinks.
      const folderEntries = itemEntries({
        trees,
        virtualFiles,
        virtualDirectories: kind === 'bento' ? ['models'] : [],
        mtime: Math.floor(item.metadata.creationTime / 1_000_000),
        keepSymlinks: false,
        onWarning: (message) => emit({ type: 'warning', message }),
      });
      const written = await exportFolder(folderEntries, location, path.basename(item.path), signal);
      // No archive, so no digest: sha256 is empty for a folder.
      return { tag: tagText, destination: written.directory, format, sha256: '', size: written.size };
    }
    const codec = plugins.formatFor(format);
    const destination = location?.display ?? '-';
    emit({ type: 'phase', phase: 'transfer', target: destination });

    let sourceTotal = 0;
    for (const tree of trees) sourceTotal += await directorySize(tree.directory, tree.exclude);
    let sourceDone = 0;
    const entries = itemEntries({
      trees,
      virtualFiles,
      virtualDirectories: kind === 'bento' ? ['models'] : [],
      mtime: Math.floor(item.metadata.creationTime / 1_000_000),
      keepSymlinks: codec.capabilities.symlinks,
      onWarning: (message) => emit({ type: 'warning', message }),
      onFileBytes: (bytes) => {
        sourceDone += bytes;
        emit({ type: 'bytes', bytesDone: sourceDone, bytesTotal: sourceTotal });
      },
    });
    const encoded = codec.encode(entries, { format, compression: exportOptions.compression ?? 'auto', signal });
    // Hashed inline, not on a worker thread as imports are: an export already keeps both cores
    // busy (file reads, the encoder, the socket, the server on a shared machine), and on two
    // cores a hash thread made a 1 GiB FTP export 5-15% slower and 15-30 MiB larger.
    const digest = digestingStream();

    try {
      if (transport && location) {
        const writer = await transport.write(location, { signal, ...(exportOptions.resume ? { resume: true } : {}) });
        try {
          await pipeline(encoded, digest, writer.stream, { signal });
          emit({ type: 'phase', phase: 'commit', target: destination });
          await writer.commit();
        } catch (error) {
          await writer.abort(error);
          throw error;
        }
      } else {
        const stream = target as Writable;
        const isStdio = stream === process.stdout || stream === process.stderr;
        await pipeline(encoded, digest, stream, { signal, end: !isStdio });
      }
    } catch (error) {
      encoded.destroy();
      throw toBentoportError(signal?.aborted ? signal.reason ?? error : error, 'export', 'write', destination);
    }

    const sha256 = digest.digest();
    const result: ExportResult = { tag: tagText, destination, format, sha256, size: digest.bytes };
    if (exportOptions.checksumFile && transport && location) {
      const sidecar = sidecarLocation(location);
      const writer = await transport.write(sidecar, { signal });
      try {
        writer.stream.end(`${sha256}  ${path.posix.basename(location.path)}\n`);
        await finished(writer.stream);
        await writer.commit();
      } catch (error) {
        await writer.abort(error);
        throw toBentoportError(error, 'export', 'write', sidecar.display);
      }
      result.checksumFile = sidecar.display;
    }
    return result;
  }

  async function expectedDigest(
    importOptions: ImportOptions,
    transport: Transport | undefined,
    location: Location | undefined,
  ): Promise<{ sha256: string; from: 'option' | 'checksum-file' } | undefined> {
    if (importOptions.sha256 !== undefined) {
      const sha256 = importOptions.sha256.trim().toLowerCase();
      if (!SHA256_PATTERN.test(sha256)) {
        throw new BentoportError('ERR_INVALID_OPTION', `--sha256 must be 64 hexadecimal digits, got '${importOptions.sha256}'`);
      }
      return { sha256, from: 'option' };
    }
    if (!transport || !location) return undefined;
    const sidecar = sidecarLocation(location);
    try {
      await transport.stat(sidecar, { signal: importOptions.signal });
    } catch (error) {
      if (isBentoportError(error, 'ERR_NOT_FOUND')) return undefined;
      // The archive itself was readable with the same credentials: a refusal here is a grant
      // for that one object (a presigned URL, whose signature covers only its own key).
      if (isBentoportError(error, 'ERR_AUTH') && location.query !== '') return undefined;
      throw error;
    }
    const sha256 = parseChecksumFile(await readSmall(await transport.read(sidecar, { signal: importOptions.signal }), 4096));
    if (!sha256) throw new BentoportError('ERR_CORRUPT_ARCHIVE', `[import] ${sidecar.display} holds no SHA-256 digest`);
    return { sha256, from: 'checksum-file' };
  }

  /** Move the models embedded under `<item>/models/<name>/<version>` into the model store. */
  async function installEmbeddedModels(itemDirectory: string, emit: ReturnType<typeof emitter>) {
    const imported: string[] = [];
    const skipped: string[] = [];
    const modelsDirectory = path.join(itemDirectory, 'models');
    if (!(await pathExists(modelsDirectory))) return { imported, skipped };
    for (const name of (await readdir(modelsDirectory, { withFileTypes: true })).filter((entry) => entry.isDirectory())) {
      const nameDirectory = path.join(modelsDirectory, name.name);
      for (const version of (await readdir(nameDirectory, { withFileTypes: true })).filter((entry) => entry.isDirectory())) {
        const modelDirectory = path.join(nameDirectory, version.name);
        const metadata = await loadItemMetadata('model', modelDirectory);
        if (!metadata) {
          throw new BentoportError(
            'ERR_INVALID_METADATA',
            `Failed to load bento model because it does not contain a 'model.yaml' (models/${name.name}/${version.name} in the archive)`,
          );
        }
        const modelTag = formatTag(metadata.tag);
        if (await models.has(metadata.tag)) {
          skipped.push(modelTag);
          emit({ type: 'notice', message: `Model ${modelTag} already exists in the global model store, skipping copy.` });
          continue;
        }
        try {
          await models.install(modelDirectory, metadata);
        } catch (error) {
          // Another import put it there meanwhile: the same tag is the same model.
          if (!isBentoportError(error, 'ERR_ALREADY_EXISTS')) throw error;
          skipped.push(modelTag);
          continue;
        }
        imported.push(modelTag);
        emit({ type: 'notice', message: `Model ${modelTag} imported into the model store.` });
      }
    }
    await rm(modelsDirectory, { recursive: true, force: true });
    return { imported, skipped };
  }

  async function importItem(
    kind: ItemKind,
    source: ImportSource,
    inputFormat: string | undefined,
    importOptions: ImportOptions = {},
  ): Promise<ImportResult> {
    const emit = emitter('import', importOptions.onProgress);
    const signal = importOptions.signal;
    await sweepStaleStaging(home).catch(() => undefined);
    emit({ type: 'phase', phase: 'resolve' });

    let location: Location | undefined;
    let transport: Transport | undefined;
    let size: number | undefined;
    let explicitFormat = inputFormat !== undefined;
    let format = inputFormat;
    if (typeof source === 'string') {
      const resolved = resolveImportSource(source, inputFormat, importOptions, kind, cwd);
      location = resolved.location;
      explicitFormat = resolved.explicitFormat;
      format = resolved.format;
      if (format === 'folder') return importFolder(kind, location, emit, signal);
      transport = plugins.transportFor(location.protocol, location.display);
      const info = await transport.stat(location, { signal });
      if (info.type === 'directory') {
        throw new BentoportError('ERR_INVALID_TARGET', `${location.display} is a directory, not an archive (use format folder to import a directory)`);
      }
      size = info.size;
    }
    const display = location?.display ?? '-';
    const expected = await expectedDigest(importOptions, transport, location);

    const raw = transport && location ? await transport.read(location, { signal }) : (source as Readable);
    // A large archive is hashed on a worker thread: on import the main thread (tar parsing,
    // hashing) is the bottleneck while the file writes leave the second core idle part of the
    // time; 1 GiB tar import 1.46 -> 1.25 s locally, 2.05 -> 1.80 s over FTP.
    const digest = digestingStream({ onBytes: (bytes) => emit({ type: 'bytes', bytesDone: bytes, bytesTotal: size }), expectedBytes: size });
    // pipeline(), not pipe(): a failure or early close on either side destroys the other, so
    // neither the source's connection nor the hash thread outlives a failed import. Its errors
    // reach the decoder through `digest`.
    pipeline(raw, digest).catch(() => undefined);
    let staging: string | undefined;
    try {
      const { head, stream } = await peekStream(digest, SNIFF_BYTES);
      if (!explicitFormat || format === undefined) format = plugins.sniff(head, display);
      const codec = plugins.formatFor(format);
      emit({ type: 'phase', phase: 'transfer', target: display });
      staging = await createStagingDirectory(home, [bentos.base, models.base]);
      const itemDirectory = path.join(staging, 'item');
      await mkdir(itemDirectory);

      let archive: ArchiveSource;
      let wholeInputRead: Promise<unknown> = Promise.resolve();
      if (codec.capabilities.randomAccessDecode) {
        if (transport && location && transport.capabilities.rangedReads && size !== undefined) {
          // Decode with ranged reads; the sequential stream still flows, only to be hashed.
          const rangeLocation = location;
          const rangeTransport = transport;
          wholeInputRead = pipeline(stream, new Writable({ write: (_chunk, _encoding, callback) => callback() }));
          // Awaited on success only; a failure elsewhere destroys the stream and with it this.
          wholeInputRead.catch(() => undefined);
          archive = {
            size,
            stream: () => lazyReadable(() => rangeTransport.read(rangeLocation, { signal })),
            readRange: (start, end) => lazyReadable(() => rangeTransport.read(rangeLocation, { start, end, signal })),
          };
        } else {
          // No random access to the source (stdin, a plain stream): spool it into the staging directory.
          const spool = path.join(staging, 'archive.spool');
          await pipeline(stream, createWriteStream(spool), { signal });
          const spoolSize = (await stat(spool)).size;
          archive = {
            size: spoolSize,
            stream: () => createReadStream(spool),
            readRange: (start, end) => (end <= start ? Readable.from([]) : createReadStream(spool, { start, end: end - 1 })),
          };
        }
      } else {
        archive = { size, stream: () => stream };
      }

      await extractEntries(codec.decode(archive, { format, signal }), itemDirectory, {
        limits: options.limits,
        archiveBytesRead: () => digest.bytes,
        signal,
      });
      // The digest must cover every byte, including what the decoder did not need (tar padding).
      if (!codec.capabilities.randomAccessDecode && !stream.readableEnded && !stream.destroyed) {
        await pipeline(stream, new Writable({ write: (_chunk, _encoding, callback) => callback() }));
      }
      await wholeInputRead;
      const sha256 = digest.digest();
      emit({ type: 'phase', phase: 'verify' });
      if (expected && expected.sha256 !== sha256) {
        throw new BentoportError(
          'ERR_CORRUPT_ARCHIVE',
          `[import] ${display}: SHA-256 mismatch (expected ${expected.sha256}, got ${sha256}); nothing was imported`,
        );
      }
      const metadata = await loadItemMetadata(kind, itemDirectory);
      if (!metadata) {
        throw new BentoportError(
          'ERR_INVALID_METADATA',
          kind === 'bento'
            ? `Failed to load bento because it does not contain a 'bento.yaml' (${display})`
            : `Failed to load bento model because it does not contain a 'model.yaml' (${display})`,
        );
      }
      const store = storeOf(kind);
      if (await store.has(metadata.tag)) {
        throw new BentoportError('ERR_ALREADY_EXISTS', `Item '${formatTag(metadata.tag)}' already exists in the store ${store.base}`);
      }
      emit({ type: 'phase', phase: 'commit' });
      const embedded = kind === 'bento' ? await installEmbeddedModels(itemDirectory, emit) : { imported: [], skipped: [] };
      const item = await store.install(itemDirectory, metadata);
      return {
        item,
        format,
        sha256,
        size: digest.bytes,
        ...(expected ? { verifiedAgainst: expected.from } : {}),
        modelsImported: embedded.imported,
        modelsSkipped: embedded.skipped,
      };
    } catch (error) {
      digest.destroy();
      throw toBentoportError(signal?.aborted ? signal.reason ?? error : error, 'import', 'read', display);
    } finally {
      if (staging) await removeStagingDirectory(staging);
    }
  }

  /**
   * Import from a local directory (format `folder`), read in place: its files are copied once
   * into the staging directory, which then enters the store by rename like any import.
   */
  async function importFolder(kind: ItemKind, location: Location, emit: ReturnType<typeof emitter>, signal: AbortSignal | undefined): Promise<ImportResult> {
    const directory = await folderSource(location);
    let staging: string | undefined;
    try {
      emit({ type: 'phase', phase: 'transfer', target: location.display });
      staging = await createStagingDirectory(home, [bentos.base, models.base]);
      const itemDirectory = path.join(staging, 'item');
      await mkdir(itemDirectory);
      const entries = itemEntries({ trees: [{ directory, prefix: '' }], mtime: Math.floor(Date.now() / 1000), keepSymlinks: true });
      const summary = await extractEntries(entries, itemDirectory, { limits: options.limits, signal });
      const metadata = await loadItemMetadata(kind, itemDirectory);
      if (!metadata) {
        throw new BentoportError(
          'ERR_INVALID_METADATA',
          kind === 'bento'
            ? `Failed to load bento because it does not contain a 'bento.yaml' (${location.display})`
            : `Failed to load bento model because it does not contain a 'model.yaml' (${location.display})`,
        );
      }
      const store = storeOf(kind);
      if (await store.has(metadata.tag)) {
        throw new BentoportError('ERR_ALREADY_EXISTS', `Item '${formatTag(metadata.tag)}' already exists in the store ${store.base}`);
      }
      emit({ type: 'phase', phase: 'commit' });
      const embedded = kind === 'bento' ? await installEmbeddedModels(itemDirectory, emit) : { imported: [], skipped: [] };
      const item = await store.install(itemDirectory, metadata);
      return { item, format: 'folder', sha256: '', size: summary.bytes, modelsImported: embedded.imported, modelsSkipped: embedded.skipped };
    } catch (error) {
      throw toBentoportError(signal?.aborted ? signal.reason ?? error : error, 'import', 'read', location.display);
    } finally {
      if (staging) await removeStagingDirectory(staging);
    }
  }

  async function deleteItems(kind: ItemKind, tagLike: string): Promise<StoreItem[]> {
    const store = storeOf(kind);
    const tag = parseTag(tagLike);
    // As BentoML's CLI: a bare name deletes every version; otherwise resolve (prefix, latest) first.
    const targets = tag.version === undefined ? await store.list(tag.name) : [await store.get(tagLike)];
    if (kind === 'model') {
      for (const model of targets) {
        const users: string[] = [];
        for (const bento of await bentos.list()) {
          if (await pathExists(path.join(bento.path, 'models'))) continue;
          if (bento.metadata.models.some((reference) => formatTag(reference.tag) === formatTag(model.tag))) {
            users.push(formatTag(bento.tag));
          }
        }
        if (users.length > 0) {
          throw new BentoportError(
            'ERR_IN_USE',
            `Model ${formatTag(model.tag)} is being used by the following bentos and can't be deleted:\n  ${users.join('\n  ')}`,
          );
        }
      }
    }
    for (const item of targets) await store.delete(formatTag(item.tag));
    return targets;
  }

  return {
    home,
    bentos,
    models,
    exportBento: (tag, target, outputFormat, exportOptions) => exportItem('bento', tag, target, outputFormat, exportOptions),
    importBento: (source, inputFormat, importOptions) => importItem('bento', source, inputFormat, importOptions),
    exportModel: (tag, target, outputFormat, exportOptions) => exportItem('model', tag, target, outputFormat, exportOptions),
    importModel: (source, inputFormat, importOptions) => importItem('model', source, inputFormat, importOptions),
    listBentos: (tagLike) => bentos.list(tagLike),
    getBento: (tagLike) => bentos.get(tagLike),
    deleteBento: (tagLike) => deleteItems('bento', tagLike),
    listModels: (tagLike) => models.list(tagLike),
    getModel: (tagLike) => models.get(tagLike),
    deleteModel: (tagLike) => deleteItems('model', tagLike),
    ...createPushPull({ home, bentos, models, registries: plugins.registries, limits: options.limits, onProgress: options.onProgress }),
  };
}

/** `Bento(tag="name:version")` / `Model(tag="…")`, as BentoML prints items. */
export function describeItem(item: StoreItem): string {
  return `${TYPE_NAME[item.kind]}(tag="${formatTag(item.tag)}")`;
}
