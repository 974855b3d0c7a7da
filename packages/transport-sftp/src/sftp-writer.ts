import { Writable } from 'node:stream';
import {
  abortedFailure,
  parentDirectory,
  pluginFailure,
  reportRemovedLeftover,
  retryBudget,
  serverPath,
  siblingDisplay,
  staleTemporarySiblings,
  temporarySiblingPath,
  throwIfAborted,
  twoPhaseWriter,
} from '@bentoport/plugin-kit';
import type { Location, ProgressListener, TransportWriteOptions, TransportWriter } from '@bentoport/spec';
import * as calls from './sftp-calls.js';
import type { SftpEndpoint } from './sftp-endpoint.js';
import { COMPONENT, sftpFailure } from './sftp-status.js';
import type { SftpConnection, SshPool } from './ssh-connection.js';

export interface WriterSettings {
  chunkSize: number;
  concurrency: number;
  highWaterMark: number;
  retries: number;
  retryDelayMs: number;
  fsync: boolean;
}

/** mkdir -p: create each missing directory from the top. */
async function makeDirectories(connection: SftpConnection, directory: string): Promise<void> {
  const exists = await calls.stat(connection, directory).then((stats) => calls.isDirectoryMode(stats.mode), () => false);
  if (exists || directory === '/') return;
  await makeDirectories(connection, parentDirectory(directory));
  await calls.mkdir(connection, directory).catch(async (error: unknown) => {
    // Created meanwhile by someone else is fine.
    const stats = await calls.stat(connection, directory).catch(() => undefined);
    if (stats === undefined || !calls.isDirectoryMode(stats.mode)) throw error;
  });
}

/**
 * Remove the temporary files that killed earlier writes to `target` left beside it (a SIGKILL
 * leaves no chance to `abort`), and say so. Only this target's, and only those whose writer is
 * gone. Best effort: a failure here never fails the write.
 */
async function removeStaleTemporaries(connection: SftpConnection, target: string, display: string, onProgress: ProgressListener | undefined): Promise<void> {
  const directory = parentDirectory(target);
  const basename = target.slice(target.lastIndexOf('/') + 1);
  try {
    const entries = await calls.readdir(connection, directory);
    const listed = entries.map((entry) => ({ name: entry.filename, modifiedMs: entry.attrs.mtime * 1000 }));
    for (const name of await staleTemporarySiblings(listed, basename)) {
      const leftover = directory === '/' ? `/${name}` : `${directory}/${name}`;
      // Another run may have removed it first: only a removal we made is reported.
      if (await calls.unlink(connection, leftover).then(() => true, () => false)) reportRemovedLeftover(onProgress, 'export', COMPONENT, siblingDisplay(display, name));
    }
  } catch {
    // An unreadable directory: the write itself reports what matters.
  }
}

/**
 * Check the target, create missing parent directories (mkdir -p, as FTP and `sftp -p` users
 * expect), then open a temporary file beside the target. Refusals reject here.
 */
export async function openSftpWriter(
  pool: SshPool,
  endpoint: SftpEndpoint,
  location: Location,
  options: TransportWriteOptions,
  settings: WriterSettings,
): Promise<TransportWriter> {
  const { signal } = options;
  const { display } = location;
  throwIfAborted(signal, COMPONENT, 'WRITE', display);
  const opened = await pool.run(endpoint, 'WRITE', display, signal, async (connection) => {
    const target = serverPath(location.path, connection.home);
    const existing = await calls.stat(connection, target).catch(() => undefined);
    if (target.endsWith('/') || (existing !== undefined && calls.isDirectoryMode(existing.mode))) {
      throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'WRITE', display, 'a directory is at this location');
    }
    await makeDirectories(connection, parentDirectory(target));
    await removeStaleTemporaries(connection, target, display, options.onProgress);
    const temporary = temporarySiblingPath(target);
    const handle = await calls.open(connection, temporary, 'wx');
    return { target, temporary, handle };
  }, true);
  const { connection } = opened;
  const { target, temporary, handle } = opened.result;
  if (signal?.aborted) {
    await calls.close(connection, handle).catch(() => {});
    await calls.unlink(connection, temporary).catch(() => {});
    pool.release(connection);
    throw abortedFailure(COMPONENT, 'WRITE', display, signal);
  }
  return sftpWriter({ pool, endpoint, display, connection, handle, target, temporary, signal, settings });
}

interface WriterParts {
  pool: SshPool;
  endpoint: SftpEndpoint;
  display: string;
  connection: SftpConnection;
  handle: Buffer;
  target: string;
  temporary: string;
  signal: AbortSignal | undefined;
  settings: WriterSettings;
}

interface Pending {
  offset: number;
  data: Buffer;
  done: Promise<void>;
}

function sftpWriter(parts: WriterParts): TransportWriter {
  const { pool, endpoint, display, target, temporary, signal, settings } = parts;
  const secrets = [endpoint.password ?? ''];
  let connection: SftpConnection | undefined = parts.connection;
  let handle: Buffer | undefined = parts.handle;
  let position = 0;
  /** WRITE requests sent and not yet acknowledged: kept so they can be sent again after a cut. */
  const inFlight = new Set<Pending>();
  const budget = retryBudget({ retries: settings.retries, retryDelayMs: settings.retryDelayMs, signal });
  /** A request acknowledged since the last failure: progress, which earns a fresh set of retries. */
  let acknowledged = false;
  let recovering: Promise<void> | undefined;

  function send(offset: number, data: Buffer): Pending {
    const pending: Pending = { offset, data, done: Promise.resolve() };
    pending.done = (async () => {
      for (;;) {
        if (recovering !== undefined) await recovering;
        const current = connection;
        const currentHandle = handle;
        if (current === undefined || currentHandle === undefined) throw pluginFailure(COMPONENT, 'ERR_IO', 'WRITE', display, 'the connection is closed');
        try {
          await calls.write(current, currentHandle, data, offset);
          acknowledged = true;
          return;
        } catch (error) {
          if (writer.state === 'aborted') throw error;
          recovering ??= recover(error, current).finally(() => {
            recovering = undefined;
          });
          await recovering;
        }
      }
    })();
    inFlight.add(pending);
    pending.done.then(() => inFlight.delete(pending), () => {});
    return pending;
  }

  /**
   * Reconnect after a cut and reopen the temporary file without truncating it: every request
   * still in flight is then sent again at its offset (SFTP writes are positional, so a request
   * the server did apply is simply rewritten with the same bytes).
   */
  async function recover(error: unknown, broken: SftpConnection): Promise<void> {
    if (connection === broken) {
      connection = undefined;
      handle = undefined;
      pool.discard(broken);
    }
    const progressed = acknowledged;
    acknowledged = false;
    // Bounded by the budget: it rejects once the retries since the last acknowledged write are spent.
    await budget.retry(sftpFailure(error, 'WRITE', display, secrets, signal), reopen, progressed).catch((failure: unknown) => {
      throw signal?.aborted ? abortedFailure(COMPONENT, 'WRITE', display, signal) : failure;
    });
  }

  /** A fresh connection with the temporary file open again, without truncating it; its failures coded. */
  async function reopen(): Promise<void> {
    const fresh = await pool.acquire(endpoint, 'WRITE', display, signal);
    try {
      handle = await calls.open(fresh, temporary, 'r+');
      connection = fresh;
    } catch (reopenError) {
      pool.release(fresh);
      throw sftpFailure(reopenError, 'WRITE', display, secrets, signal);
    }
  }

  /** Resolve once fewer than `limit` requests are in flight; reject if one failed for good. */
  async function windowBelow(limit: number): Promise<void> {
    while (inFlight.size >= limit) await Promise.race([...inFlight].map((pending) => pending.done));
  }

  /** Bytes taken but not sent yet: small chunks (a tar header, a source file) are gathered into full requests. */
  const gathered: Buffer[] = [];
  let gatheredBytes = 0;

  /**
   * The next `size` bytes (fewer at the end) off the front of `gathered`. A view when one chunk
   * holds them all, which is the rule for large chunks; a copy only for a piece that straddles
   * chunks. (Joining everything gathered would copy each 1 MiB chunk once more whenever a 512-byte
   * tar header had put the stream off its 64 KiB grid: 1 GiB of copies and garbage per GiB.)
   */
  function takePiece(size: number): Buffer {
    const first = gathered[0]!;
    if (first.length >= size) {
      if (first.length === size) gathered.shift();
      else gathered[0] = first.subarray(size);
      gatheredBytes -= size;
      return first.subarray(0, size);
    }
    const piece = Buffer.allocUnsafe(Math.min(size, gatheredBytes));
    let filled = 0;
    while (filled < piece.length) {
      const head = gathered[0]!;
      const taken = Math.min(head.length, piece.length - filled);
      head.copy(piece, filled, 0, taken);
      filled += taken;
      if (taken === head.length) gathered.shift();
      else gathered[0] = head.subarray(taken);
    }
    gatheredBytes -= piece.length;
    return piece;
  }

  async function sendGathered(all: boolean): Promise<void> {
    while (gatheredBytes >= settings.chunkSize || (all && gatheredBytes > 0)) {
      await windowBelow(settings.concurrency);
      if (writer.state === 'aborted') throw pluginFailure(COMPONENT, 'ERR_ABORTED', 'WRITE', display, 'aborted');
      const piece = takePiece(settings.chunkSize);
      send(position, piece);
      position += piece.length;
    }
  }

  const stream = new Writable({
    highWaterMark: settings.highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      gathered.push(chunk);
      gatheredBytes += chunk.length;
      sendGathered(false).then(
        () => callback(),
        (error: unknown) => callback(sftpFailure(error, 'WRITE', display, secrets)),
      );
    },
    final(callback) {
      (async () => {
        await sendGathered(true);
        await windowBelow(1);
        if (connection === undefined || handle === undefined) throw pluginFailure(COMPONENT, 'ERR_IO', 'WRITE', display, 'the connection is closed');
        const stats = await calls.fstat(connection, handle);
        if (stats.size !== position) throw pluginFailure(COMPONENT, 'ERR_IO', 'WRITE', display, `the server holds ${stats.size} of ${position} bytes`);
        if (settings.fsync) await calls.fsync(connection, handle);
        await calls.close(connection, handle);
        handle = undefined;
      })().then(
        () => callback(),
        (error: unknown) => callback(sftpFailure(error, 'WRITE', display, secrets)),
      );
    },
  });

  /** Close and remove the temporary file; never throws. */
  async function discard(): Promise<void> {
    await Promise.allSettled([...inFlight].map((pending) => pending.done));
    const current = connection ?? (await pool.acquire(endpoint, 'WRITE', display).catch(() => undefined));
    connection = undefined;
    if (current === undefined) return;
    if (handle !== undefined) await calls.close(current, handle).catch(() => {});
    handle = undefined;
    await calls.unlink(current, temporary).catch(() => {});
    pool.release(current);
  }

  const writer = twoPhaseWriter({
    stream,
    component: COMPONENT,
    operation: 'WRITE',
    display,
    signal,
    async finish() {
      if (connection === undefined) throw pluginFailure(COMPONENT, 'ERR_IO', 'COMMIT', display, 'the connection is closed');
      await renameOver(connection, temporary, target);
    },
    discard,
    commitFailure: (error) => sftpFailure(error, 'COMMIT', display, secrets),
    committed() {
      if (connection !== undefined) pool.release(connection);
      connection = undefined;
    },
  });
  return writer;
}

/**
 * posix-rename@openssh.com replaces the target atomically. Without it, SSH_FXP_RENAME refuses an
 * existing target, so the old file is removed first (a short window without the file).
 */
async function renameOver(connection: SftpConnection, from: string, to: string): Promise<void> {
  try {
    await calls.posixRename(connection, from, to);
    return;
  } catch (error) {
    if ((error as { unsupported?: boolean }).unsupported !== true) throw error;
  }
  await calls.unlink(connection, to).catch(() => {});
  await calls.rename(connection, from, to);
}
