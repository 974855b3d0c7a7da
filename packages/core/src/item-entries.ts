import { closeSync, createReadStream, lstatSync, openSync, readSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { pipeline, Readable, Transform } from 'node:stream';
import type { ArchiveEntry } from '@bentoport/spec';
import { sortedByBytes } from './content-manifest.js';
import type { RegularFileFacts, StatsTaken } from './directory-size.js';
import type { FileDigests, FileHashing } from './file-digests.js';

/** A directory to archive under a path prefix, e.g. a model under `models/<name>/<version>`. */
export interface ArchiveSourceTree {
  /** Absolute directory to read. */
  directory: string;
  /** Archive path of the directory (`''` for the archive root). */
  prefix: string;
  /** Top-level names of `directory` to leave out (a bento's own `models/`). */
  exclude?: string[];
}

/** A small file that exists only in the archive (`models/<name>/latest`). */
export interface VirtualFile {
  path: string;
  content: string;
}

export interface ItemEntriesOptions {
  trees: ArchiveSourceTree[];
  virtualFiles?: VirtualFile[];
  /** Directories that exist only in the archive (BentoML always writes `models/`, even empty). */
  virtualDirectories?: string[];
  /** Modification time for every entry, seconds (the item's creation_time: reproducible archives). */
  mtime: number;
  /** Whether the format stores symlinks; when not, links are followed and their targets stored. */
  keepSymlinks: boolean;
  onWarning?: (message: string) => void;
  /** Called with each file's bytes as they are read (progress). */
  onFileBytes?: (bytes: number) => void;
  /**
   * Takes the SHA-256 of each file as it is read, by its path on disk, so that signing the item
   * afterwards reads nothing again. Inline only: made without `threadedFromBytes`.
   * @default undefined (no file digests)
   */
  fileDigests?: FileDigests;
  /**
   * The regular files' mode and size as `directorySize` found them moments ago (for the progress
   * total); each is used once instead of a second lstat. @default undefined (stat every file)
   */
  statsTaken?: StatsTaken;
}

interface Node {
  archivePath: string;
  /** Absolute path on disk; undefined for virtual nodes. */
  source?: string;
  content?: string;
  children?: Map<string, Node>;
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * The archive entries of one or more directories, depth first with each directory's children
 * sorted, parents before children, every entry stamped with the same mtime, owners dropped.
 *
 * Symlinks that stay inside their tree are kept as links (when the format stores links); others
 * are exported as what they point to, with a warning, so our own importer accepts the archive.
 */
export async function* itemEntries(options: ItemEntriesOptions): AsyncGenerator<ArchiveEntry> {
  // Virtual nodes (models/, models/<name>/latest) are merged into the real tree at their sorted place.
  const virtualRoot: Node = { archivePath: '', children: new Map() };
  const addVirtual = (archivePath: string, node: Omit<Node, 'archivePath'>) => {
    const segments = archivePath.split('/');
    let current = virtualRoot;
    segments.forEach((segment, index) => {
      const soFar = segments.slice(0, index + 1).join('/');
      let child = current.children?.get(segment);
      if (!child) {
        child = index === segments.length - 1 ? { archivePath: soFar, ...node } : { archivePath: soFar, children: new Map() };
        current.children?.set(segment, child);
      }
      current = child;
    });
  };
  for (const tree of options.trees) {
    if (tree.prefix === '') continue;
    addVirtual(tree.prefix, { source: tree.directory, children: new Map() });
  }
  for (const file of options.virtualFiles ?? []) addVirtual(file.path, { content: file.content });
  for (const directory of options.virtualDirectories ?? []) addVirtual(directory, { children: new Map() });
  const rootTree = options.trees.find((tree) => tree.prefix === '');
  const rootReal = rootTree ? realpathSync(rootTree.directory) : undefined;
  // The walk itself is synchronous (see SMALL_FILE_BYTES); this generator only hands its entries
  // to consumers that iterate asynchronously.
  yield* walk(virtualRoot, rootTree?.directory, rootReal, rootTree?.exclude ?? [], options, new Set());
}

/**
 * Files up to this size are read whole, synchronously, when the encoder asks for their bytes
 * (`readWhole`, or the first pull of `open`'s stream); larger ones stream. Why synchronous: each
 * async file-system call is a round trip through the libuv thread pool (tens of microseconds on
 * a busy machine, plus the wake-ups), and a small file needs three (open, read, close) plus the
 * walk's lstat. GNU tar makes the same calls one after the other on its only thread and pays
 * about 10 µs a file; so do we. The event loop is held for one small read at a time, and
 * compression runs off this thread (zlib's pool, xz's threads, workers), so nothing else waits.
 */
const SMALL_FILE_BYTES = 256 * 1024;

/**
 * Bytes per read of a larger file (its stream's high-water mark). Why not 1 MiB, as the archive
 * writes use: with 1 MiB reads a gz or zip export held about 10 MiB more resident memory. Their
 * buffers die as soon as the codec has copied them into its pieces, but they are allocated and
 * freed among the pieces and the compressed output in glibc's heap, which returns only its top:
 * with `MALLOC_MMAP_THRESHOLD_=131072` (every buffer mapped alone) the 1 MiB reads cost no memory,
 * and ran slower. 1 GiB exports, interleaved, 3 rounds, peak RSS and median time, 1 MiB reads
 * against these: many-small gz 126–128 → 115–116 MiB, 7.17 → 7.52 s; many-small zip 128 →
 * 114–116 MiB, 8.03 → 8.77 s; few-large gz 122–127 → 112–119 MiB, 6.14 → 6.22 s; few-large zip
 * 121–125 → 115–119 MiB, 6.60 → 6.95 s; plain tar, which writes each chunk as it comes, the same
 * time (1.67 and 1.85 s) and 2–7 MiB less.
 */
const FILE_READ_BYTES = 256 * 1024;

/**
 * The bytes of the small file `source`, expected to be `size` long, in one read: asking for one
 * byte more tells a file that grew (the result is then longer than `size`, which the encoder
 * reports) without the fstat and the second read of readFileSync. Counted for progress and
 * hashed for the file digests here, on the bytes in hand.
 */
function readSmallFile(source: string, size: number, mode: number, options: ItemEntriesOptions): Buffer {
  const data = Buffer.allocUnsafe(size + 1);
  const descriptor = openSync(source, 'r');
  let length = 0;
  try {
    // A regular file gives everything up to its end in one read; the loop covers a short one.
    while (length < data.length) {
      const count = readSync(descriptor, data, length, data.length - length, null);
      if (count === 0) break;
      length += count;
    }
  } finally {
    closeSync(descriptor);
  }
  const bytes = data.subarray(0, length);
  options.onFileBytes?.(bytes.length);
  if (length <= size) options.fileDigests?.addWhole(source, bytes, mode);
  return bytes;
}

/**
 * A Readable that reads `source` whole on its first pull. A failure (the file vanished, was
 * replaced by a directory, lost its read permission) destroys the stream, as a failing
 * createReadStream would.
 */
function smallFileBody(source: string, size: number, mode: number, options: ItemEntriesOptions): Readable {
  let started = false;
  return new Readable({
    read() {
      if (started) return;
      started = true;
      let data: Buffer;
      try {
        data = readSmallFile(source, size, mode, options);
      } catch (error) {
        this.destroy(error as Error);
        return;
      }
      if (data.length > 0) this.push(data);
      this.push(null);
    },
  });
}

function* walk(
  node: Node,
  directory: string | undefined,
  treeRoot: string | undefined,
  exclude: string[],
  options: ItemEntriesOptions,
  ancestors: Set<string>,
): Generator<ArchiveEntry> {
  const names = new Set<string>(node.children?.keys() ?? []);
  const onDisk = new Map<string, string>();
  if (directory !== undefined) {
    for (const name of readdirSync(directory)) {
      if (exclude.includes(name)) continue;
      onDisk.set(name, path.join(directory, name));
      names.add(name);
    }
  }
  for (const name of sortedByBytes(names)) {
    const archivePath = node.archivePath === '' ? name : `${node.archivePath}/${name}`;
    const virtual = node.children?.get(name);
    if (virtual) {
      if (virtual.content !== undefined) {
        const content = Buffer.from(virtual.content);
        yield { path: archivePath, type: 'file', mode: 0o644, mtime: options.mtime, size: content.length, open: () => Readable.from([content]) };
      } else {
        yield { path: archivePath, type: 'directory', mode: 0o755, mtime: options.mtime, size: 0 };
        const source = virtual.source;
        // A mounted tree (a model under models/<name>/<version>) is its own root for link checks.
        const mountedRoot = source === undefined ? undefined : realpathSync(source);
        yield* walk(virtual, source, source === undefined ? treeRoot : mountedRoot, [], options, ancestors);
      }
      continue;
    }
    yield* diskEntry(onDisk.get(name) as string, archivePath, treeRoot as string, options, ancestors);
  }
}

function* diskEntry(
  source: string,
  archivePath: string,
  treeRoot: string,
  options: ItemEntriesOptions,
  ancestors: Set<string>,
): Generator<ArchiveEntry> {
  const counted = takenFacts(source, options.statsTaken);
  if (counted !== undefined) {
    yield fileEntry(source, archivePath, counted.mode, counted.size, options);
    return;
  }
  const info = lstatSync(source);
  const mtime = options.mtime;
  if (info.isSymbolicLink()) {
    const linkTarget = readlinkSync(source);
    let resolved: string | undefined;
    try {
      resolved = realpathSync(source);
    } catch {
      resolved = undefined;
    }
    if (resolved === undefined) {
      options.onWarning?.(`skipping broken symlink '${archivePath}' -> '${linkTarget}'`);
      return;
    }
    const inside = isInside(treeRoot, resolved);
    if (inside && options.keepSymlinks) {
      // Store a relative target so the link also stays inside wherever the archive is unpacked.
      const relativeTarget = path.isAbsolute(linkTarget)
        ? path.relative(path.dirname(path.join(treeRoot, archivePath)), resolved).split(path.sep).join('/') || '.'
        : linkTarget;
      yield { path: archivePath, type: 'symlink', mode: 0o777, mtime, size: 0, linkTarget: relativeTarget };
      return;
    }
    if (!inside) {
      options.onWarning?.(`symlink '${archivePath}' points outside the item ('${linkTarget}'); exporting the file it points to`);
    }
    const targetInfo = statSync(resolved);
    if (targetInfo.isDirectory()) {
      if (ancestors.has(resolved)) {
        options.onWarning?.(`skipping symlink '${archivePath}': it loops back to a directory above it`);
        return;
      }
      yield { path: archivePath, type: 'directory', mode: targetInfo.mode & 0o7777, mtime, size: 0 };
      yield* walkDirectory(resolved, archivePath, treeRoot, options, new Set([...ancestors, resolved]));
      return;
    }
    yield fileEntry(resolved, archivePath, targetInfo.mode, targetInfo.size, options);
    return;
  }
  if (info.isDirectory()) {
    yield { path: archivePath, type: 'directory', mode: info.mode & 0o7777, mtime, size: 0 };
    yield* walkDirectory(source, archivePath, treeRoot, options, ancestors);
    return;
  }
  if (info.isFile()) {
    yield fileEntry(source, archivePath, info.mode, info.size, options);
    return;
  }
  options.onWarning?.(`skipping '${archivePath}': not a file, directory or symlink`);
}

/** What `taken` holds of the regular file `source`, given out once (the map shrinks as the walk goes). */
function takenFacts(source: string, taken: StatsTaken | undefined): RegularFileFacts | undefined {
  const facts = taken?.get(source);
  if (facts !== undefined) taken?.delete(source);
  return facts;
}

function* walkDirectory(
  directory: string,
  archivePath: string,
  treeRoot: string,
  options: ItemEntriesOptions,
  ancestors: Set<string>,
): Generator<ArchiveEntry> {
  const realDirectory = realpathSync(directory);
  const nested = new Set([...ancestors, realDirectory]);
  for (const name of sortedByBytes(readdirSync(directory))) {
    yield* diskEntry(path.join(directory, name), `${archivePath}/${name}`, treeRoot, options, nested);
  }
}

function fileEntry(source: string, archivePath: string, mode: number, size: number, options: ItemEntriesOptions): ArchiveEntry {
  const entry: ArchiveEntry = {
    path: archivePath,
    type: 'file',
    mode: mode & 0o7777,
    mtime: options.mtime,
    size,
    open: () => {
      if (size <= SMALL_FILE_BYTES) return smallFileBody(source, size, mode, options);
      const stream = createReadStream(source, { highWaterMark: FILE_READ_BYTES });
      if (options.onFileBytes) stream.on('data', (chunk) => options.onFileBytes?.(chunk.length));
      return options.fileDigests ? hashedWhileRead(stream, options.fileDigests.begin(source, size, mode)) : stream;
    },
  };
  if (size <= SMALL_FILE_BYTES) entry.readWhole = () => readSmallFile(source, size, mode, options);
  return entry;
}

/**
 * `stream`, each chunk added to `hashing` as the encoder reads it, the digest recorded once the
 * last has been read (a file abandoned half-way records nothing).
 *
 * A chunk goes on at once and is hashed on a later turn of the event loop, once the pipeline has
 * handed it to the destination's write: the hash then overlaps that write (on the thread pool)
 * instead of holding it back. Medians of a 1 GiB signed export (many-small layout, 6 runs each),
 * in one batch: hashed before passing the chunk on 4.15 s, after it with the next chunk waiting
 * for the hash 3.61 s, unsigned (hashing the archive instead) 3.41 s; in another: waiting 3.54 s,
 * not waiting 3.30 s, unsigned 2.98 s. Hashes run in the order their chunks came and the digest
 * is recorded after the last; the chunks waiting for theirs are the few read since the event
 * loop's last check phase, as the hash runs on this same thread. Export digests are inline (see
 * ItemEntriesOptions.fileDigests): a hash thread's request to wait would not be heard here.
 */
function hashedWhileRead(stream: Readable, hashing: FileHashing): Readable {
  // Chunks are read-only downstream, but one may be transferred to a worker (its memory detached)
  // before its turn: the file then gets no digest, and its manifest line is read from disk.
  let intact = true;
  const hashed = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const length = chunk.length;
      setImmediate(() => {
        if (chunk.length === length) void hashing.update(chunk);
        else intact = false;
      });
      callback(null, chunk);
    },
    flush(callback) {
      setImmediate(() => {
        if (intact) hashing.end();
        callback();
      });
    },
  });
  // Either side failing or being destroyed (the encoder leaving early) destroys the other; the
  // encoder hears of it through `hashed`, so the callback has nothing left to do.
  pipeline(stream, hashed, () => undefined);
  return hashed;
}
