import { Readable } from 'node:stream';
import type { Duplex } from 'node:stream';
import { extract as createExtract } from 'tar-stream';
import type { Header } from 'tar-stream';
import { isBentoportError } from '@bentoport/spec';
import type { ArchiveEntry, ArchiveEntryType, ArchiveSource, BentoportError } from '@bentoport/spec';
import { abortedFailure, bufferGarbageCollector, pluginFailure, toBentoportError } from '@bentoport/plugin-kit';

/**
 * Reading uses tar-stream's parser: it already knows PAX (path, linkpath, size), GNU long
 * names, base-256 numbers, v7 headers and checksums, and it never reads ahead of the entry
 * being consumed. What it lacks is added here: a decompressor in front (the caller's),
 * PAX mtimes with fractions, BentoML's `./` layout, coded errors and an abort signal.
 */

/** tar-stream's entry streams are streamx Readables; only this much of them is used. */
interface StreamxReadable {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  readonly destroyed: boolean;
}

/**
 * tar-stream's header. Its types promise less than it gives: `type` is null for typeflags it
 * does not know, and `pax` holds the raw PAX records.
 */
type TarStreamHeader = Omit<Header, 'type' | 'pax' | 'linkname'> & {
  type: Header['type'] | null;
  linkname: string | null;
  pax?: Record<string, string> | null;
};

/** How {@link decodeTar} gets at the tar bytes, and how it names itself in errors. */
export interface DecodeTarOptions {
  /**
   * A fresh decompressor (a Duplex: compressed bytes in, tar bytes out) that the archive's bytes
   * are piped through: `() => createGunzip()` for `.tar.gz`. Its errors count as a corrupt archive.
   * @default none: the source holds a plain tar
   */
  decompress?: () => Duplex;
  /**
   * The plugin named in error messages: `[format-xz] read bento: …`.
   * @default 'tar'
   */
  component?: string;
  /**
   * The format token being read, named in error messages only.
   * @default 'tar'
   */
  format?: string;
  /** Stops decoding with ERR_ABORTED. */
  signal?: AbortSignal;
}

interface PendingEntry {
  header: TarStreamHeader;
  body: StreamxReadable;
  next: (error?: Error | null) => void;
}

/**
 * The entries of a tar archive (behind `options.decompress`, if given), in archive order, one at
 * a time: the next entry is parsed only after the previous body was consumed or skipped. Names
 * lose their `./` prefixes and trailing `/`; the root entry (`./`) is not yielded; nothing else is
 * checked (core's safe extraction judges paths).
 *
 * Iteration throws ERR_CORRUPT_ARCHIVE for bytes that are not a whole tar (or that the
 * decompressor rejects), ERR_ABORTED when `signal` fires, and the source's own error, coded,
 * when reading fails. A body opened twice is a TypeError. Without `decompress`, asks V8 for a
 * young collection every 8 MiB read, on the caller's thread (see README, "Memory").
 * @example
 * ```ts
 * for await (const entry of decodeTar(source, { component: 'format-tar', format: 'gz', decompress: () => createGunzip(), signal })) {
 *   console.log(entry.path, entry.type, entry.size); // unread bodies are skipped
 * }
 * ```
 */
export async function* decodeTar(source: ArchiveSource, options: DecodeTarOptions = {}): AsyncGenerator<ArchiveEntry> {
  const { signal } = options;
  const where: Where = { component: options.component ?? 'tar', format: options.format ?? 'tar' };
  if (signal?.aborted === true) throw abortError(where, signal);

  const input = source.stream();
  const decompressor = options.decompress?.();
  // v7 archives carry no magic; the header checksum still guards against garbage.
  const extract = createExtract({ allowUnknownFormat: true } as Parameters<typeof createExtract>[0]);
  const queue: PendingEntry[] = [];
  let failure: BentoportError | undefined;
  let finished = false;
  let bytesSeen = 0;
  let wake: (() => void) | undefined;

  const notify = (): void => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const fail = (error: BentoportError): void => {
    if (failure === undefined) {
      failure = error;
      // Also fails the body a consumer may be reading right now, which would otherwise wait
      // forever for bytes that will never come.
      extract.destroy(error);
      decompressor?.destroy();
      input.destroy();
    }
    notify();
  };
  /** Waits until `ready` holds, re-checked whenever any event arrives; throws on failure. */
  const until = async (ready: () => boolean): Promise<void> => {
    while (failure === undefined && !ready()) await new Promise<void>((resolve) => (wake = resolve));
    if (failure !== undefined) throw failure;
  };

  const onAbort = (): void => fail(abortError(where, signal));
  signal?.addEventListener('abort', onAbort, { once: true });

  extract.on('entry', (header, body, next) => {
    // Errors reach us through the extractor; an unlistened 'error' on the body would crash.
    const streamx = body as unknown as StreamxReadable;
    streamx.on('error', () => undefined);
    queue.push({ header: header as unknown as TarStreamHeader, body: streamx, next });
    notify();
  });
  extract.on('error', (error: Error) => fail(corrupt(where, error)));
  extract.on('finish', () => {
    finished = true;
    notify();
  });
  input.on('error', (error: Error) => fail(readError(where, error)));
  decompressor?.on('error', (error: Error) => fail(corrupt(where, error)));

  const decompressed: Readable = decompressor === undefined ? input : input.pipe(decompressor);
  // A plain tar's chunks become the bodies' chunks and die once written, within a few chunks, with
  // little else allocated: see YOUNG_BUFFER_GARBAGE_INTERVAL_BYTES. A decompressor's output is
  // left to V8: compressed streams keep buffers alive longer, and young collections promoted them.
  const garbage = decompressor === undefined ? bufferGarbageCollector({ collection: 'young' }) : undefined;
  void feed(decompressed, extract, (count) => {
    bytesSeen += count;
    garbage?.passed(count);
  }).catch((error: unknown) =>
    fail(corrupt(where, error as Error)),
  );

  let completed = false;
  try {
    while (true) {
      await until(() => queue.length > 0 || finished);
      const pending = queue.shift();
      if (pending === undefined) break;
      let closed = false;
      pending.body.on('close', () => {
        closed = true;
        notify();
      });
      const entry = toArchiveEntry(pending, where, (error) => {
        fail(corrupt(where, error));
        return failure ?? corrupt(where, error);
      });
      let opened = false;
      if (entry !== undefined) {
        const { open, readWhole } = entry;
        if (open !== undefined) {
          entry.open = () => {
            opened = true;
            return open();
          };
        }
        if (readWhole !== undefined) {
          entry.readWhole = () => {
            opened = true;
            return readWhole();
          };
        }
        yield entry;
      }
      // A body nobody opened is skipped; one that was opened must be read to its end (or
      // destroyed) by the consumer before the parser moves on, which keeps memory bounded.
      if (!opened) discard(pending.body);
      // tar-stream ends a non-file body (a directory header that claims a size) only once
      // next() is called: waiting for it first would hang forever.
      if (entry?.type === 'file') await until(() => closed);
      pending.next();
    }
    if (bytesSeen === 0) throw pluginFailure(where.component, 'ERR_CORRUPT_ARCHIVE', 'read', where.format, 'the archive is empty');
    completed = true;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!completed) {
      extract.destroy();
      decompressor?.destroy();
      input.destroy();
    }
  }
}

/** Copies decompressed bytes into the parser, waiting whenever it asks us to. */
async function feed(bytes: Readable, extract: ReturnType<typeof createExtract>, count: (bytes: number) => void): Promise<void> {
  for await (const chunk of bytes as AsyncIterable<Buffer>) {
    count(chunk.length);
    if (!extract.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          extract.off('drain', done);
          extract.off('close', done);
          resolve();
        };
        extract.on('drain', done);
        extract.on('close', done);
      });
    }
    if (extract.destroyed) return;
  }
  extract.end(undefined);
}

function toArchiveEntry(pending: PendingEntry, where: Where, onBodyError: (error: Error) => BentoportError): ArchiveEntry | undefined {
  const { header } = pending;
  const path = normaliseMemberName(header.name);
  if (path === '') return undefined; // the archive root (`.` or `./`) is implicit
  const type = entryType(header.type);
  const entry: ArchiveEntry = {
    path,
    type,
    mode: (header.mode ?? 0) & 0o7777,
    mtime: memberMtime(header),
    size: type === 'file' ? (header.size ?? 0) : 0,
  };
  if (type === 'symlink') entry.linkTarget = header.linkname ?? '';
  if (type === 'hardlink') entry.linkTarget = stripDotSlash(header.linkname ?? '');
  if (type === 'file') {
    let openedOnce = false;
    const openOnce = (): void => {
      if (openedOnce) throw new TypeError(`[${where.component}] read ${where.format}: the body of ${path} was already opened`);
      openedOnce = true;
    };
    if (entry.size <= WHOLE_BODY_BYTES) {
      entry.readWhole = () => {
        openOnce();
        return wholeBody(pending.body, onBodyError);
      };
    }
    entry.open = () => {
      openOnce();
      const body = bodyReadable(pending.body, onBodyError);
      // The archive may have failed between yielding this entry and opening it, in which case
      // the body's error event is already gone.
      if (pending.body.destroyed) body.destroy(onBodyError(new Error('the archive stream was destroyed')));
      return body;
    };
  }
  return entry;
}

/**
 * Strips the `./` prefixes and the trailing `/` that tar writers add, and nothing else: `..`,
 * absolute paths and the like pass through for core's safe extraction to judge. The root entry
 * becomes the empty string.
 */
export function normaliseMemberName(name: string): string {
  let path = stripDotSlash(name);
  while (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  if (path === '.' || path === './') return '';
  return path;
}

function stripDotSlash(name: string): string {
  let path = name;
  while (path.startsWith('./')) path = path.slice(2);
  return path;
}

function entryType(type: TarStreamHeader['type']): ArchiveEntryType {
  switch (type) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'directory';
    case 'symlink':
      return 'symlink';
    case 'link':
      return 'hardlink';
    default:
      return 'other';
  }
}

/** The PAX `mtime` (Python writes fractional seconds there) wins over the whole-second field. */
function memberMtime(header: TarStreamHeader): number {
  const paxMtime = header.pax?.mtime;
  if (paxMtime !== undefined) {
    const parsed = paxMtime.trim() === '' ? Number.NaN : Number(paxMtime);
    if (Number.isFinite(parsed)) return parsed;
  }
  const seconds = (header.mtime?.getTime() ?? 0) / 1000;
  if (!Number.isFinite(seconds)) return 0;
  // An octal field cannot be negative, so a negative value came from a base-256 field (GNU
  // tar's pre-1970 mtimes), which tar-stream 3.2 decodes one too high: it sums the inverted
  // bytes (|x| - 1) instead of taking the two's complement (|x|).
  return seconds < 0 ? seconds - 1 : seconds;
}

/**
 * A Node Readable over a streamx body, with backpressure both ways. Destroying it early skips
 * the rest of the body instead of tearing down the whole archive, as tar-stream would.
 */
function bodyReadable(body: StreamxReadable, onError: (error: Error) => BentoportError): Readable {
  let attached = false;
  let ended = false;
  let discarding = false;
  const readable = new Readable({
    highWaterMark: 64 * 1024,
    read() {
      if (!attached) {
        attached = true;
        body.on('data', (chunk) => {
          if (!discarding && !readable.push(chunk)) body.pause();
        });
        body.on('end', () => {
          ended = true;
          if (!discarding) readable.push(null);
        });
      }
      body.resume();
    },
    destroy(error, callback) {
      if (!ended) {
        discarding = true;
        discard(body);
      }
      callback(error);
    },
  });
  body.on('error', (error) => readable.destroy(onError(error)));
  return readable;
}

/** Bodies up to this size are also offered whole (`readWhole`): no Node stream per small file. */
const WHOLE_BODY_BYTES = 1024 * 1024;

/**
 * The bytes of a streamx body, gathered (tar-stream hands a small body over in one or two
 * chunks). Fails as {@link bodyReadable} does when the body errors or the archive is torn down.
 */
function wholeBody(body: StreamxReadable, onError: (error: Error) => BentoportError): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    if (body.destroyed) {
      reject(onError(new Error('the archive stream was destroyed')));
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    let ended = false;
    body.on('data', (chunk) => {
      chunks.push(chunk);
      length += chunk.length;
    });
    body.on('end', () => {
      ended = true;
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length));
    });
    body.on('error', (error) => reject(onError(error)));
    body.on('close', () => {
      if (!ended) reject(onError(new Error('the archive stream was destroyed')));
    });
    body.resume();
  });
}

function discard(body: StreamxReadable): void {
  body.on('data', () => undefined);
  body.resume();
}

/** Who is reading what, for messages: `[format-xz] read bento: …`. */
interface Where {
  component: string;
  format: string;
}

function corrupt(where: Where, error: Error): BentoportError {
  if (isBentoportError(error)) return error;
  return pluginFailure(where.component, 'ERR_CORRUPT_ARCHIVE', 'read', where.format, error.message, { cause: error });
}

function readError(where: Where, error: Error): BentoportError {
  return toBentoportError(error, where.component, 'read', where.format);
}

function abortError(where: Where, signal: AbortSignal | undefined): BentoportError {
  return abortedFailure(where.component, 'read', where.format, signal);
}
