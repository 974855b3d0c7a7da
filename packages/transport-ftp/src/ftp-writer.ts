import { Readable, Writable } from 'node:stream';
import {
  abortedFailure,
  isTransientNetworkError,
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
import { isBentoportError, type Location, type ProgressListener, type TransportWriteOptions, type TransportWriter } from '@bentoport/spec';
import { FTPError, type Client } from 'basic-ftp';
import type { ConnectionPool, FtpConnection } from './connection-pool.js';
import type { FtpEndpoint } from './ftp-endpoint.js';
import { COMPONENT, ftpFailure } from './ftp-replies.js';
import { isDirectory, makeDirectories } from './remote-file.js';
import { ResumeBuffer } from './resume-buffer.js';

export interface WriterSettings {
  highWaterMark: number;
  retries: number;
  retryDelayMs: number;
  resumeBufferBytes: number;
}

/**
 * Whether an upload is worth continuing after `failure`: a transient one, or any other failure of
 * the connection rather than a reply (the server never refused: it went away mid-transfer).
 */
function isRetryableUpload(failure: unknown): boolean {
  if (isTransientNetworkError(failure)) return true;
  if (!isBentoportError(failure) || failure.code !== 'ERR_IO') return false;
  return failure.cause !== undefined && !(failure.cause instanceof FTPError);
}

const EMPTY_TLS_UPLOAD_DELAY = 200;

/**
 * Run one STOR (or REST offset + STOR) of `source`. REST must come right before STOR, after the
 * passive-mode command, so it is sent from the transfer preparation hook basic-ftp exposes.
 */
async function store(client: Client, source: Readable, remotePath: string, offset: number): Promise<void> {
  const original = client.prepareTransfer;
  const prepare: Client['prepareTransfer'] = async (ftp) => {
    const response = await original.call(client, ftp);
    if (offset > 0) await ftp.request(`REST ${offset}`);
    return response;
  };
  client.prepareTransfer = prepare;
  try {
    await client.uploadFrom(source, remotePath);
  } finally {
    // basic-ftp replaces the hook with the passive mode it settled on; keep that choice.
    if (client.prepareTransfer === prepare) client.prepareTransfer = original;
  }
}

/**
 * Remove the temporary files that killed earlier writes to `remotePath` left beside it (a
 * SIGKILL leaves no chance to `abort`), and say so. Only this target's, and only those whose
 * writer is gone; the age, where needed, comes from MDTM (LIST gives no dependable time). Best
 * effort: a failure here never fails the write.
 */
async function removeStaleTemporaries(client: Client, remotePath: string, display: string, onProgress: ProgressListener | undefined): Promise<void> {
  const directory = parentDirectory(remotePath);
  const basename = remotePath.slice(remotePath.lastIndexOf('/') + 1);
  const pathOf = (name: string) => (directory === '/' ? `/${name}` : `${directory}/${name}`);
  try {
    // basic-ftp asks for `LIST -a`, so hidden names are listed too.
    const entries = await client.list(directory);
    const listed = entries.map((entry) => ({ name: entry.name, modifiedMs: entry.modifiedAt?.getTime() }));
    const modifiedOf = async (name: string) => (await client.lastMod(pathOf(name))).getTime();
    for (const name of await staleTemporarySiblings(listed, basename, modifiedOf)) {
      // Another run may have removed it first: only a removal we made is reported.
      if (await client.remove(pathOf(name)).then(() => true, () => false)) reportRemovedLeftover(onProgress, 'export', COMPONENT, siblingDisplay(display, name));
    }
  } catch {
    // An unlistable directory: the write itself reports what matters.
  }
}

/**
 * Check the target, create missing parent directories, then start a STOR to a temporary name
 * beside the target. Every refusal (login, permission, a directory in the way) rejects here.
 */
export async function openFtpWriter(
  pool: ConnectionPool,
  endpoint: FtpEndpoint,
  location: Location,
  options: TransportWriteOptions,
  settings: WriterSettings,
): Promise<TransportWriter> {
  const { signal } = options;
  const { display } = location;
  throwIfAborted(signal, COMPONENT, 'STOR', display);
  const target = await pool.run(endpoint, 'STOR', display, signal, async ({ client, home }) => {
    const remotePath = serverPath(location.path, home);
    if (remotePath.endsWith('/') || (await isDirectory(client, remotePath))) {
      throw pluginFailure(COMPONENT, 'ERR_INVALID_TARGET', 'STOR', display, 'a directory is at this location');
    }
    await makeDirectories(client, parentDirectory(remotePath)).catch((error: unknown) => {
      throw ftpFailure(error, 'MKD', display, endpoint.secrets);
    });
    await removeStaleTemporaries(client, remotePath, display, options.onProgress);
    return remotePath;
  });
  throwIfAborted(signal, COMPONENT, 'STOR', display);
  return ftpWriter({ pool, endpoint, display, target, temporary: temporarySiblingPath(target), signal, settings });
}

interface WriterParts {
  pool: ConnectionPool;
  endpoint: FtpEndpoint;
  display: string;
  target: string;
  temporary: string;
  signal: AbortSignal | undefined;
  settings: WriterSettings;
}

function ftpWriter(parts: WriterParts): TransportWriter {
  const { pool, endpoint, display, target, temporary, signal, settings } = parts;
  const secrets = endpoint.secrets;
  let connection: FtpConnection | undefined;
  /** Set when the write is being discarded: the transfer then stops quietly. */
  let discarding = false;
  const resumeBuffer = new ResumeBuffer(settings.resumeBufferBytes);
  let accepted = 0;
  let ended = false;
  let source: Readable | undefined;
  let waiting: (() => void) | undefined;

  let attemptBytes = 0;

  /**
   * End the data stream. vsftpd answers a TLS data connection that is closed right after its
   * handshake, with no data, with a decode-error alert, failing an empty upload: give it a moment.
   */
  function endSource(attempt: Readable): void {
    if (endpoint.tls !== 'none' && attemptBytes === 0) setTimeout(() => attempt.push(null), EMPTY_TLS_UPLOAD_DELAY);
    else attempt.push(null);
  }

  function release(): void {
    const resume = waiting;
    waiting = undefined;
    resume?.();
  }

  /** The transfer, across reconnections; settles when the server confirmed the whole upload. */
  const transfer = runTransfer();
  transfer.catch(() => {});

  /** Reconnect after a cut and learn how much of the upload the server kept: the next offset. */
  async function reconnect(): Promise<number> {
    connection = await pool.connect(endpoint, 'STOR', display, signal);
    const stored = await connection.client.size(temporary).catch(() => 0);
    if (stored > accepted) throw pluginFailure(COMPONENT, 'ERR_IO', 'STOR', display, `the server holds ${stored} bytes, more than the ${accepted} sent`, { secrets });
    if (stored < resumeBuffer.start) {
      throw pluginFailure(
        COMPONENT,
        'ERR_IO',
        'STOR',
        display,
        `cannot resume: the server kept ${stored} bytes and only bytes from ${resumeBuffer.start} on are still held (raise resumeBufferBytes)`,
        { secrets },
      );
    }
    return stored;
  }

  /** A data stream for one STOR attempt: the held bytes from `offset` on, then what `write` brings. */
  function startAttempt(offset: number): Readable {
    const attempt = new Readable({ highWaterMark: settings.highWaterMark, read: release });
    source = attempt;
    attemptBytes = accepted - offset;
    for (const slice of resumeBuffer.from(offset)) attempt.push(slice);
    if (ended) endSource(attempt);
    return attempt;
  }

  async function runTransfer(): Promise<void> {
    const budget = retryBudget({ retries: settings.retries, retryDelayMs: settings.retryDelayMs, signal, isRetryable: isRetryableUpload });
    let offset = 0;
    let progressed = false;
    for (let attemptNumber = 0; ; attemptNumber++) {
      let attempt: Readable | undefined;
      try {
        if (attemptNumber === 0) {
          connection = await pool.acquire(endpoint, 'STOR', display, signal);
        } else {
          const stored = await reconnect();
          // Progress since the last failure earns a fresh set of retries.
          progressed = stored > offset;
          offset = stored;
        }
        if (discarding) {
          connection?.client.close();
          connection = undefined;
          return;
        }
        attempt = startAttempt(offset);
        await store(connection!.client, attempt, temporary, offset);
        if (discarding) return;
        // The server closed the upload (226) although we had not ended: it lost the connection.
        if (!ended) throw pluginFailure(COMPONENT, 'ERR_IO', 'STOR', display, 'the server ended the upload early', { secrets, transient: true });
        return;
      } catch (error) {
        attempt?.destroy();
        connection?.client.close();
        connection = undefined;
        if (discarding) return;
        const failure = ftpFailure(error, 'STOR', display, secrets, signal);
        await budget.afterFailure(failure, progressed).catch(() => {
          throw signal?.aborted ? abortedFailure(COMPONENT, 'STOR', display, signal) : failure;
        });
      }
    }
  }

  const stream = new Writable({
    highWaterMark: settings.highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      accepted += chunk.length;
      attemptBytes += chunk.length;
      resumeBuffer.append(chunk);
      // Before the first STOR starts, or between attempts, the next attempt sends the chunk from the resume buffer.
      if (source !== undefined && !source.destroyed && source.push(chunk)) callback();
      else waiting = () => callback();
    },
    final(callback) {
      ended = true;
      if (source !== undefined && !source.destroyed) endSource(source);
      transfer.then(
        () => callback(),
        (error: unknown) => callback(error as Error),
      );
    },
  });
  transfer.catch((error: unknown) => {
    if (writer.state === 'open' && !stream.destroyed) stream.destroy(error as Error);
  });

  /** Stop the transfer and remove the temporary file; never throws. */
  async function discard(): Promise<void> {
    discarding = true;
    source?.destroy();
    connection?.client.close();
    connection = undefined;
    await transfer.catch(() => {});
    await pool.run(endpoint, 'DELE', display, undefined, async ({ client }) => {
      await client.remove(temporary, true);
    }).catch(() => {});
  }

  const writer = twoPhaseWriter({
    stream,
    component: COMPONENT,
    operation: 'STOR',
    display,
    signal,
    async finish() {
      await transfer;
      throwIfAborted(signal, COMPONENT, 'COMMIT', display);
      await pool.run(endpoint, 'COMMIT', display, signal, async ({ client }) => {
        const stored = await client.size(temporary);
        if (stored !== accepted) throw pluginFailure(COMPONENT, 'ERR_IO', 'COMMIT', display, `the server stored ${stored} of ${accepted} bytes`, { secrets });
        await renameOver(client, temporary, target);
      });
    },
    discard,
    commitFailure: (error) => ftpFailure(error, 'COMMIT', display, secrets),
    committed() {
      if (connection !== undefined) pool.release(connection);
      connection = undefined;
    },
  });
  return writer;
}

/**
 * RNFR/RNTO. Most servers (vsftpd, ProFTPD, Pure-FTPd) replace an existing target atomically; a
 * server that refuses (IIS) gets the old file deleted first, which leaves a short gap.
 */
async function renameOver(client: Client, from: string, to: string): Promise<void> {
  try {
    await client.rename(from, to);
  } catch (error) {
    if (!(error instanceof FTPError) || error.code < 500) throw error;
    const removed = await client.remove(to).then(() => true, () => false);
    if (!removed) throw error;
    await client.rename(from, to);
  }
}
