import { Readable } from 'node:stream';
import {
  BentoportError,
  type ErrorCode,
  type Location,
  type Transport,
  type TransportCapabilities,
  type TransportListEntry,
  type TransportReadOptions,
  type TransportStat,
  type TransportWriteOptions,
  type TransportWriter,
} from '@bentoport/spec';
import { memoryWriter } from './memory-writer.js';

/** Options of {@link memoryTransport}. */
export interface MemoryTransportOptions {
  /**
   * Bytes a read stream holds before it stops pulling, and the size of the chunks it pushes.
   * @default 65536
   */
  readHighWaterMark?: number;
  /**
   * Bytes a writer stream buffers before `write()` returns false.
   * @default 16384
   */
  writeHighWaterMark?: number;
  /**
   * Switch capabilities off to see how core (or the suite) copes without them; `list`/`delete`
   * then disappear and `read` refuses `start`/`end`. Only `false` has an effect.
   * @default every capability except `resumableWrites`
   */
  capabilities?: Partial<Omit<TransportCapabilities, 'resumableWrites'>>;
}

interface StoredObject {
  /** Never mutated after commit: readers keep a snapshot by holding the reference. */
  readonly data: Buffer;
  readonly mtime: Date;
  readonly version: number;
}

const NAME = 'transport-memory';
const PROTOCOL = 'memory';

function failure(code: ErrorCode, operation: string, location: Location, reason: string, cause?: unknown): BentoportError {
  return new BentoportError(code, `[${NAME}] ${operation} ${location.display}: ${reason}`, cause === undefined ? {} : { cause });
}

function abortedError(operation: string, location: Location, signal: AbortSignal): BentoportError {
  return failure('ERR_ABORTED', operation, location, 'aborted', signal.reason);
}

/** `host` + normalised path segments: `bucket/a/b.bin`; the root of a host is `bucket`. */
function keyOf(location: Location, operation: string): string {
  if (location.protocol !== PROTOCOL) {
    throw failure('ERR_UNSUPPORTED_PROTOCOL', operation, location, `protocol ${location.protocol} is not ${PROTOCOL}`);
  }
  const segments = location.path.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) throw failure('ERR_INVALID_TARGET', operation, location, 'the path contains ..');
  return [location.host, ...segments].join('/');
}

function validatePositiveInteger(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new BentoportError('ERR_INVALID_OPTION', `[${NAME}] options.${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/**
 * An in-memory transport: the reference the conformance suite tests itself against, and a fast
 * stand-in for tests of code that uses a transport. Each call makes a fresh, private store.
 *
 * Honest where it matters: reads push chunks only while the consumer keeps up, the writer
 * buffers up to its high-water mark and completes writes asynchronously, and written bytes stay
 * invisible until `commit`.
 *
 * @example
 * ```ts
 * const transport = memoryTransport();
 * const location = { protocol: 'memory', host: '', path: '/a.bento', query: '', display: 'memory:///a.bento' };
 * const writer = await transport.write(location);
 * writer.stream.end(Buffer.from('bytes'));
 * await finished(writer.stream);
 * await writer.commit();
 * ```
 */
export function memoryTransport(options: MemoryTransportOptions = {}): Transport {
  if (typeof options !== 'object' || options === null) throw new TypeError('memoryTransport: options must be an object');
  const readHighWaterMark = validatePositiveInteger(options.readHighWaterMark, 'readHighWaterMark', 64 * 1024);
  const writeHighWaterMark = validatePositiveInteger(options.writeHighWaterMark, 'writeHighWaterMark', 16 * 1024);
  const capabilities: TransportCapabilities = {
    rangedReads: options.capabilities?.rangedReads !== false,
    list: options.capabilities?.list !== false,
    delete: options.capabilities?.delete !== false,
    atomicCommit: options.capabilities?.atomicCommit !== false,
    resumableWrites: false,
  };
  const objects = new Map<string, StoredObject>();
  let versions = 0;

  const isDirectory = (key: string): boolean => {
    const prefix = `${key}/`;
    for (const candidate of objects.keys()) if (candidate.startsWith(prefix)) return true;
    return false;
  };

  /** A file cannot sit where a directory is needed, nor replace a directory. */
  const checkWritable = (key: string, location: Location, operation: string): void => {
    if (isDirectory(key)) throw failure('ERR_INVALID_TARGET', operation, location, 'a directory is at this location');
    const parts = key.split('/');
    for (let length = 1; length < parts.length; length++) {
      if (objects.has(parts.slice(0, length).join('/'))) {
        throw failure('ERR_INVALID_TARGET', operation, location, `${parts.slice(0, length).join('/')} is a file, not a directory`);
      }
    }
  };

  async function stat(location: Location, statOptions: { signal?: AbortSignal } = {}): Promise<TransportStat> {
    if (statOptions.signal?.aborted) throw abortedError('STAT', location, statOptions.signal);
    const key = keyOf(location, 'STAT');
    const object = objects.get(key);
    if (object !== undefined) {
      return { type: 'file', size: object.data.length, mtime: object.mtime, etag: `v${object.version}` };
    }
    if (isDirectory(key)) return { type: 'directory', size: 0 };
    throw failure('ERR_NOT_FOUND', 'STAT', location, 'no such object');
  }

  async function read(location: Location, readOptions: TransportReadOptions = {}): Promise<Readable> {
    const { signal } = readOptions;
    if (signal?.aborted) throw abortedError('READ', location, signal);
    const key = keyOf(location, 'READ');
    const object = objects.get(key);
    if (object === undefined) {
      if (isDirectory(key)) throw failure('ERR_INVALID_TARGET', 'READ', location, 'a directory is at this location');
      throw failure('ERR_NOT_FOUND', 'READ', location, 'no such object');
    }
    if (!capabilities.rangedReads && (readOptions.start !== undefined || readOptions.end !== undefined)) {
      throw failure('ERR_INVALID_OPTION', 'READ', location, 'ranged reads are switched off');
    }
    const { data } = object;
    const start = readOptions.start ?? 0;
    const end = Math.min(readOptions.end ?? data.length, data.length);
    if (!Number.isInteger(start) || start < 0 || !Number.isInteger(end) || end < start) {
      throw new RangeError(`[${NAME}] READ ${location.display}: invalid range start=${start} end=${String(readOptions.end)}`);
    }
    let position = start;
    const stream = new Readable({
      highWaterMark: readHighWaterMark,
      read(size) {
        if (position >= end) {
          this.push(null);
          return;
        }
        const length = Math.min(size, readHighWaterMark, end - position);
        // Copy, so a consumer that mutates its chunk cannot corrupt the store.
        const chunk = Buffer.from(data.subarray(position, position + length));
        position += length;
        this.push(chunk);
      },
    });
    if (signal !== undefined) {
      const onAbort = (): void => {
        stream.destroy(abortedError('READ', location, signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      stream.once('close', () => signal.removeEventListener('abort', onAbort));
    }
    return stream;
  }

  async function write(location: Location, writeOptions: TransportWriteOptions = {}): Promise<TransportWriter> {
    const { signal } = writeOptions;
    if (signal?.aborted) throw abortedError('WRITE', location, signal);
    const key = keyOf(location, 'WRITE');
    checkWritable(key, location, 'WRITE');
    return memoryWriter({
      component: NAME,
      display: location.display,
      highWaterMark: writeHighWaterMark,
      signal,
      publish(data) {
        checkWritable(key, location, 'COMMIT');
        objects.set(key, { data, mtime: new Date(), version: ++versions });
      },
    });
  }

  async function list(location: Location, listOptions: { signal?: AbortSignal } = {}): Promise<TransportListEntry[]> {
    if (listOptions.signal?.aborted) throw abortedError('LIST', location, listOptions.signal);
    const key = keyOf(location, 'LIST');
    if (objects.has(key)) throw failure('ERR_INVALID_TARGET', 'LIST', location, 'an object, not a directory, is at this location');
    const prefix = `${key}/`;
    const entries = new Map<string, TransportListEntry>();
    for (const [candidate, object] of objects) {
      if (!candidate.startsWith(prefix)) continue;
      const rest = candidate.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash === -1) entries.set(rest, { name: rest, type: 'file', size: object.data.length });
      else entries.set(rest.slice(0, slash), { name: rest.slice(0, slash), type: 'directory', size: 0 });
    }
    if (entries.size === 0) throw failure('ERR_NOT_FOUND', 'LIST', location, 'no such directory');
    return [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async function remove(location: Location, deleteOptions: { signal?: AbortSignal } = {}): Promise<void> {
    if (deleteOptions.signal?.aborted) throw abortedError('DELETE', location, deleteOptions.signal);
    const key = keyOf(location, 'DELETE');
    if (objects.delete(key)) return;
    if (isDirectory(key)) throw failure('ERR_INVALID_TARGET', 'DELETE', location, 'a directory is at this location');
    throw failure('ERR_NOT_FOUND', 'DELETE', location, 'no such object');
  }

  return {
    apiVersion: 1,
    name: NAME,
    protocols: [PROTOCOL],
    capabilities,
    stat,
    read,
    write,
    ...(capabilities.list ? { list } : {}),
    ...(capabilities.delete ? { delete: remove } : {}),
  };
}
