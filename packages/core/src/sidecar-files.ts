import path from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { BentoportError, isBentoportError, type Location, type ProgressListener, type Transport } from '@bentoport/spec';
import { toBentoportError } from '@bentoport/plugin-kit';

const SHA256_PATTERN = /^[0-9a-f]{64}$/;
/** A sidecar holds one line; reading stops after this many bytes. */
const SIDECAR_MAX_BYTES = 4096;

/** The digest an import must match, and where it came from. */
export interface ExpectedDigest {
  sha256: string;
  from: 'option' | 'checksum-file';
}

/**
 * Files beside an archive, named after it: `<archive>.sha256` (its digest, sha256sum format) and
 * `<archive>.sig` (the item's signature with the manifest it signed).
 */

/** `<archive><suffix>`, beside the archive. */
function sidecarLocation(location: Location, suffix = '.sha256'): Location {
  return { ...location, path: `${location.path}${suffix}`, display: `${location.display}${suffix}` };
}

/** A signature file holds a few KiB of signature plus one manifest line per file; this bounds a hostile one. */
const SIGNATURE_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The text of `<archive><suffix>` beside a path or URL source, or undefined when there is none
 * (or the source's grant does not reach it: a presigned URL covers only its own key).
 */
export async function readSidecar(
  transport: Transport,
  location: Location,
  suffix: string,
  limit: number,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  const sidecar = sidecarLocation(location, suffix);
  try {
    await transport.stat(sidecar, { signal });
  } catch (error) {
    if (isBentoportError(error, 'ERR_NOT_FOUND')) return undefined;
    if (isBentoportError(error, 'ERR_AUTH') && location.query !== '') return undefined;
    throw error;
  }
  return readSmallText(await transport.read(sidecar, { signal }), limit);
}

/** `<archive>.sig` beside a path or URL source, or undefined. */
export function readSignatureSidecar(transport: Transport, location: Location, signal: AbortSignal | undefined): Promise<string | undefined> {
  return readSidecar(transport, location, '.sig', SIGNATURE_MAX_BYTES, signal);
}

/** Parse a sha256sum-format line (`<hex>  <name>`), or undefined. */
function parseChecksumFile(text: string): string | undefined {
  const first = text.trim().split(/\s+/)[0]?.toLowerCase();
  return first && SHA256_PATTERN.test(first) ? first : undefined;
}

/** A small text file's content, read to at most `limit` bytes (a hostile file cannot fill memory). */
export async function readSmallText(stream: Readable, limit: number): Promise<string> {
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

/** The `sha256` option, checked and lower-cased. @throws {BentoportError} ERR_INVALID_OPTION */
function digestOption(sha256: string): ExpectedDigest {
  const normalised = sha256.trim().toLowerCase();
  if (!SHA256_PATTERN.test(normalised)) {
    throw new BentoportError('ERR_INVALID_OPTION', `--sha256 must be 64 hexadecimal digits, got '${sha256}'`);
  }
  return { sha256: normalised, from: 'option' };
}

/**
 * What an import's archive must hash to: the `sha256` option, else the digest in a
 * `<archive>.sha256` beside a path or URL source, else nothing to check.
 * @throws {BentoportError} ERR_INVALID_OPTION for a malformed option, ERR_CORRUPT_ARCHIVE for a
 * sidecar without a digest, the transport's errors reading it.
 */
export async function expectedDigest(
  sha256: string | undefined,
  transport: Transport | undefined,
  location: Location | undefined,
  signal: AbortSignal | undefined,
): Promise<ExpectedDigest | undefined> {
  if (sha256 !== undefined) return digestOption(sha256);
  if (!transport || !location) return undefined;
  const text = await readSidecar(transport, location, '.sha256', SIDECAR_MAX_BYTES, signal);
  if (text === undefined) return undefined;
  const sidecar = sidecarLocation(location);
  const digest = parseChecksumFile(text);
  if (!digest) throw new BentoportError('ERR_CORRUPT_ARCHIVE', `[import] ${sidecar.display} holds no SHA-256 digest`);
  return { sha256: digest, from: 'checksum-file' };
}

/**
 * Write `<archive>.sha256` beside an exported archive, in sha256sum format, two-phase like the
 * archive itself.
 * @returns where it went (display form).
 * @throws {BentoportError} the transport's errors, as `[export] write <sidecar>: …`.
 */
export async function writeChecksumSidecar(
  transport: Transport,
  location: Location,
  sha256: string,
  signal: AbortSignal | undefined,
  onProgress?: ProgressListener,
): Promise<string> {
  return writeSidecar(transport, location, '.sha256', `${sha256}  ${path.posix.basename(location.path)}\n`, signal, onProgress);
}

/** Write `<archive><suffix>` holding `text`, two-phase like the archive itself. @returns where it went (display form). */
export async function writeSidecar(
  transport: Transport,
  location: Location,
  suffix: string,
  text: string,
  signal: AbortSignal | undefined,
  onProgress?: ProgressListener,
): Promise<string> {
  const sidecar = sidecarLocation(location, suffix);
  await writeSmallText(transport, sidecar, text, signal, onProgress);
  return sidecar.display;
}

/**
 * Write a small text file, two-phase: it appears whole at `commit` or not at all.
 * @throws {BentoportError} the transport's errors, as `[export] write <location>: …`.
 */
export async function writeSmallText(transport: Transport, location: Location, text: string, signal: AbortSignal | undefined, onProgress?: ProgressListener): Promise<void> {
  const writer = await transport.write(location, { signal, ...(onProgress ? { onProgress } : {}) });
  try {
    writer.stream.end(text);
    await finished(writer.stream);
    await writer.commit();
  } catch (error) {
    await writer.abort(error);
    throw toBentoportError(error, 'export', 'write', location.display);
  }
}
