import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { BentoportError, isBentoportError, type ArchiveEntry, type ProgressListener } from '@bentoport/spec';
import type { Descriptor } from './artifact-layout.js';
import type { OciContext } from './oci-context.js';
import { pullScope } from './registry-client.js';

/** A pass-through that checks the bytes against a descriptor: SHA-256 and size. */
interface LayerVerifier {
  stream: Transform;
  /** True once every byte arrived and matched. */
  verified(): boolean;
}

function layerVerifier(layer: Descriptor, corrupt: (problem: string) => BentoportError, onProgress: ProgressListener | undefined): LayerVerifier {
  const hash = createHash('sha256');
  let received = 0;
  let verified = false;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      if (received > layer.size) return callback(corrupt(`more than the ${layer.size} bytes the manifest announces`));
      hash.update(chunk);
      onProgress?.({ type: 'bytes', operation: 'pull', bytesDone: received, bytesTotal: layer.size });
      callback(null, chunk);
    },
    flush(callback) {
      if (received !== layer.size) return callback(corrupt(`${received} bytes instead of ${layer.size}`));
      const digest = `sha256:${hash.digest('hex')}`;
      if (digest !== layer.digest) return callback(corrupt(`SHA-256 mismatch (got ${digest})`));
      verified = true;
      callback();
    },
  });
  return { stream, verified: () => verified };
}

/**
 * The entries of one layer, streamed through SHA-256 and size verification: a mismatch is thrown
 * before the iteration ends, so core installs nothing.
 * @throws {BentoportError} ERR_CORRUPT_ARCHIVE, ERR_NOT_FOUND, ERR_AUTH, ERR_IO, ERR_ABORTED.
 */
export async function* layerEntries(
  context: OciContext,
  repository: string,
  layer: Descriptor,
  format: string,
  signal: AbortSignal | undefined,
  onProgress: ProgressListener | undefined,
): AsyncGenerator<ArchiveEntry> {
  const what = `${context.host}/${repository}@${layer.digest}`;
  const response = await context.client.request('GET', `/v2/${repository}/blobs/${layer.digest}`, { scope: pullScope(repository), signal });
  if (response.status !== 200) throw await context.client.failure(response, 'GET', `${context.display} ${repository} blob ${layer.digest}`);
  const corrupt = (problem: string) => new BentoportError('ERR_CORRUPT_ARCHIVE', `[registry-oci] ${what}: ${problem}; nothing was stored`, { details: { digest: layer.digest } });
  const verifier = layerVerifier(layer, corrupt, onProgress);
  const body = response.body;
  body.on('error', (error) => verifier.stream.destroy(error));
  body.pipe(verifier.stream);
  try {
    for await (const entry of context.tar.decode({ stream: () => verifier.stream, size: layer.size }, { format, ...(signal ? { signal } : {}) })) yield entry;
  } catch (error) {
    // A damaged layer may fail the tar parser before the digest check does: report the digest.
    if (!verifier.verified() && isBentoportError(error, 'ERR_CORRUPT_ARCHIVE') && !String(error.message).includes(what)) {
      throw corrupt(`the layer does not verify (${error.message})`);
    }
    throw error;
  } finally {
    body.destroy();
  }
  if (!verifier.verified()) throw corrupt('the layer ended before it could be verified');
}
