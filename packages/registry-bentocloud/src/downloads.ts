import { Transform, pipeline, type Readable } from 'node:stream';
import { BentoportError } from '@bentoport/spec';
import { peekStream } from '@bentoport/plugin-kit';
import { COMPONENT } from './cloud-errors.js';

const MAGIC: Array<{ name: string; bytes: number[] }> = [
  { name: 'xz', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: 'bzip2', bytes: [0x42, 0x5a, 0x68] },
  { name: 'zstd', bytes: [0x28, 0xb5, 0x2f, 0xfd] },
];

/**
 * BentoCloud serves what the uploader sent: BentoML reads it with `tarfile.open(mode="r")`, which
 * detects compression. Clients (BentoML, bentoport) upload plain tar; gzip is accepted too.
 * @returns the format-tar token, `gz` or `tar`.
 * @throws {BentoportError} ERR_UNSUPPORTED_FORMAT for xz, bzip2 or zstd.
 */
export function sniffDownload(head: Buffer, what: string): 'gz' | 'tar' {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gz';
  for (const magic of MAGIC) {
    if (magic.bytes.every((byte, index) => head[index] === byte)) {
      throw new BentoportError('ERR_UNSUPPORTED_FORMAT', `[${COMPONENT}] pull ${what}: BentoCloud sent a ${magic.name}-compressed tar, which this plugin does not read`);
    }
  }
  return 'tar';
}

/**
 * The download as a stream that fails with ERR_CORRUPT_ARCHIVE when it ends short of (or beyond)
 * the announced Content-Length, so a cut connection never passes for a complete item.
 */
export function verifiedLength(body: Readable, expected: number | undefined, what: string, onBytes: (bytesDone: number) => void): Readable {
  let seen = 0;
  const check = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      onBytes(seen);
      if (expected !== undefined && seen > expected) {
        callback(new BentoportError('ERR_CORRUPT_ARCHIVE', `[${COMPONENT}] pull ${what}: received more than the announced ${expected} bytes`));
        return;
      }
      callback(null, chunk);
    },
    flush(callback) {
      if (expected !== undefined && seen !== expected) {
        callback(new BentoportError('ERR_CORRUPT_ARCHIVE', `[${COMPONENT}] pull ${what}: the download ended after ${seen} of ${expected} bytes`));
        return;
      }
      callback();
    },
  });
  return pipeline(body, check, () => undefined);
}

/** Sniff the first bytes without losing them. */
export async function sniffedStream(body: Readable, what: string): Promise<{ format: 'gz' | 'tar'; stream: Readable }> {
  const { head, stream } = await peekStream(body, 512);
  return { format: sniffDownload(head, what), stream };
}
