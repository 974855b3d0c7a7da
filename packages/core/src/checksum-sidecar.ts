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

/** `<archive>.sha256`, beside the archive. */
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
  const sidecar = sidecarLocation(location);
  try {
    await transport.stat(sidecar, { signal });
  } catch (error) {
    if (isBentoportError(error, 'ERR_NOT_FOUND')) return undefined;
    // The archive itself was readable with the same credentials: a refusal here is a grant
    // for that one object (a presigned URL, whose signature covers only its own key).
    if (isBentoportError(error, 'ERR_AUTH') && location.query !== '') return undefined;
    throw error;
  }
  const digest = parseChecksumFile(await readSmall(await transport.read(sidecar, { signal }), SIDECAR_MAX_BYTES));
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
  const sidecar = sidecarLocation(location);
  const writer = await transport.write(sidecar, { signal, ...(onProgress ? { onProgress } : {}) });
  try {
    writer.stream.end(`${sha256}  ${path.posix.basename(location.path)}\n`);
    await finished(writer.stream);
    await writer.commit();
  } catch (error) {
    await writer.abort(error);
    throw toBentoportError(error, 'export', 'write', sidecar.display);
  }
  return sidecar.display;
}
