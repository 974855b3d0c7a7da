import { Readable, Writable } from 'node:stream';
import {
  backoffDelay,
  delayUnlessAborted,
  temporarySiblingPath,
  twoPhaseWriter,
  type Location,
  type TransportWriteOptions,
  type TransportWriter,
} from '@bentoport/core';
import { FTPError, type Client } from 'basic-ftp';
import type { ConnectionPool, FtpConnection } from './connection-pool.js';
import { parentOf, serverPath, type FtpEndpoint } from './ftp-endpoint.js';
import { abortedFailure, COMPONENT, fromFtpError, ftpFailure, isTransient, throwIfSignalAborted } from './ftp-errors.js';
import { isDirectory, makeDirectories } from './remote-file.js';

export interface WriterSettings {
  highWaterMark: number;
  retries: number;
  retryDelay: number;
  resumeBufferBytes: number;
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

/** Bytes handed to the data connection that the server may not have stored yet, to re-send after a cut. */
class ResumeBuffer {
  #chunks: Buffer[] = [];
  #bytes = 0;
  /** Offset of the first byte held. */
  start = 0;

  constructor(private readonly limit: number) {}

  append(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    while (this.#chunks.length > 1 && this.#bytes - this.#chunks[0]!.length >= this.limit) {
      const dropped = this.#chunks.shift()!;
      this.#bytes -= dropped.length;
      this.start += dropped.length;
    }
  }

  /** The held bytes from `offset` on, as slices of the held chunks. */
  from(offset: number): Buffer[] {
    const slices: Buffer[] = [];
    let position = this.start;
    for (const chunk of this.#chunks) {
      const chunkEnd = position + chunk.length;
      if (chunkEnd > offset) slices.push(offset > position ? chunk.subarray(offset - position) : chunk);
      position = chunkEnd;
    }
    return slices;
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
  throwIfSignalAborted(signal, 'STOR', display);
  const connection = await pool.acquire(endpoint, 'STOR', display, signal);
  let target: string;
  try {
    target = serverPath(location, connection.home);
    if (target.endsWith('/') || (await isDirectory(connection.client, target))) {
      throw ftpFailure('ERR_INVALID_TARGET', 'STOR', display, 'a directory is at this location');
    }
    await makeDirectories(connection.client, parentOf(target)).catch((error: unknown) => {
      throw fromFtpError(error, 'MKD', display, endpoint.secrets);
    });
  } catch (error) {
    pool.release(connection);
    throw fromFtpError(error, 'STOR', display, endpoint.secrets);
  }
  if (signal?.aborted) {
    pool.release(connection);
    throw abortedFailure('STOR', display, signal);
  }
  return ftpWriter({ pool, endpoint, connection, display, target, temporary: temporarySiblingPath(target), signal, settings });
}

interface WriterParts {
  pool: ConnectionPool;
  endpoint: FtpEndpoint;
  connection: FtpConnection;
  display: string;
  target: string;
  temporary: string;
  signal: AbortSignal | undefined;
  settings: WriterSettings;
}

function ftpWriter(parts: WriterParts): TransportWriter {
  const { pool, endpoint, display, target, temporary, signal, settings } = parts;
  const secrets = endpoint.secrets;
  let connection: FtpConnection | undefined = parts.connection;
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

  async function runTransfer(): Promise<void> {
    let offset = 0;
    let failures = 0;
    for (;;) {
      const attempt = new Readable({ highWaterMark: settings.highWaterMark, read: release });
      source = attempt;
      attemptBytes = accepted - offset;
      for (const slice of resumeBuffer.from(offset)) attempt.push(slice);
      if (ended) endSource(attempt);
      try {
        connection ??= await pool.connect(endpoint, 'STOR', display, signal);
        await store(connection.client, attempt, temporary, offset);
        if (discarding) return;
        // The server closed the upload (226) although we had not ended: it lost the connection.
        if (!ended) throw ftpFailure('ERR_IO', 'STOR', display, 'the server ended the upload early', secrets, undefined);
        return;
      } catch (error) {
        attempt.destroy();
        connection?.client.close();
        connection = undefined;
        if (discarding) return;
        if (signal?.aborted) throw abortedFailure('STOR', display, signal);
        const failure = fromFtpError(error, 'STOR', display, secrets);
        const transient = isTransient(error) || (failure.code === 'ERR_IO' && !(error instanceof FTPError));
        failures++;
        if (!transient || failures > settings.retries) throw failure;
        await delayUnlessAborted(backoffDelay(failures, { baseMilliseconds: settings.retryDelay }), signal).catch(() => {
          throw abortedFailure('STOR', display, signal!);
        });
        connection = await pool.connect(endpoint, 'STOR', display, signal);
        const stored = await connection.client.size(temporary).catch(() => 0);
        if (stored > accepted) throw ftpFailure('ERR_IO', 'STOR', display, `the server holds ${stored} bytes, more than the ${accepted} sent`, secrets);
        if (stored < resumeBuffer.start) {
          throw ftpFailure(
            'ERR_IO',
            'STOR',
            display,
            `cannot resume: the server kept ${stored} bytes and only bytes from ${resumeBuffer.start} on are still held (raise resumeBufferBytes)`,
            secrets,
            error,
          );
        }
        // Progress since the last failure earns a fresh set of retries.
        if (stored > offset) failures = 0;
        offset = stored;
      }
    }
  }

  const stream = new Writable({
    highWaterMark: settings.highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      accepted += chunk.length;
      attemptBytes += chunk.length;
      resumeBuffer.append(chunk);
      if (source!.push(chunk)) callback();
      else waiting = () => callback();
    },
    final(callback) {
      ended = true;
      endSource(source!);
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
      throwIfSignalAborted(signal, 'COMMIT', display);
      await pool.run(endpoint, 'COMMIT', display, signal, async ({ client }) => {
        const stored = await client.size(temporary);
        if (stored !== accepted) throw ftpFailure('ERR_IO', 'COMMIT', display, `the server stored ${stored} of ${accepted} bytes`, secrets);
        await renameOver(client, temporary, target);
      });
    },
    discard,
    commitFailure: (error) => fromFtpError(error, 'COMMIT', display, secrets),
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
